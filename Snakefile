# advreg: reproduce DataGrad, LWA, DeepDefense and HLDR side by side, then cross-evaluate every model on
# every attacker's adversarial set.  Default: reduced CPU preset (config/config.yaml); paper scale:
#   snakemake --cores all --configfile config/paper.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "workflow/rules/common.smk"


wildcard_constraints:
    dataset=alternatives(DATASETS),
    experiment=alternatives(PLAN.experiments),
    paper=alternatives(PLAN.papers) if PLAN.papers else "(?!)",
    fold=r"\d+",
    part=r"\d+",
    method=NAME_PATTERN,
    variant=VARIANT_PATTERN,


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/assess.smk"
include: "workflow/rules/render.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
