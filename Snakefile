# advreg: reproduce DataGrad, LWA, DeepDefense and HLDR side by side, then cross-evaluate every model on
# every attacker's adversarial set.  Default: reduced CPU preset (config/config.yaml); paper scale:
#   snakemake --cores all --configfile config/paper.yaml
from snakemake.utils import min_version

min_version("9.0")


# The default preset, unless configs are given with --configfile: those then stand alone (Snakemake would
# otherwise merge them into this one, and a paper-scale run would also plan the reduced experiments).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "workflow/rules/common.smk"


wildcard_constraints:
    dataset=alternatives(PLAN.datasets),
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
include: "workflow/rules/manifest.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
        layout.MANIFEST,
        layout.REPORT_SUMMARY,
