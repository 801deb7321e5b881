"""Every paper module's name and config block (torch-free: the workflow's plan is built from this).

A paper module renders one paper's tables, figures and claims next to the published numbers, from the
gathered results of the experiments its config block names. Its entry here declares the block's parameters
(:meth:`PaperParams.experiments` says which experiments it reads) and which of each experiment's gathered
files it needs (``reads``: any of :data:`READABLE`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from advreg.ids import ModelId
from advreg.params import ConfigError, Params, Registry, Spec, param

READABLE = ("crosseval", "robustness", "histories", "examples", "timings", "worstcase")


@dataclass(frozen=True)
class PaperParams(Params):
    def experiments(self) -> list[str]:
        """The experiments this paper's outputs are computed from."""
        raise NotImplementedError


@dataclass(frozen=True)
class PaperSpec(Spec):
    reads: tuple[str, ...] = ()
    title: str = ""
    # outputs built from measured times (prefixes under results/papers/<name>/): not identical on a rerun, so
    # left out of the reproducibility check (advreg.layout.is_reproducible)
    timed: tuple[str, ...] = ()

    def check(self, params: PaperParams, experiments: Mapping[str, Any], where: str) -> None:
        """Cross-checks against the plan: the paper's own, if its params define ``check_plan``."""
        check = getattr(params, "check_plan", None)
        if check is not None:
            check(experiments, where)


def _model_ids(ids: tuple[str, ...], where: str) -> list[ModelId]:
    return [ModelId.parse(text, f"{where}[{i}]") for i, text in enumerate(ids)]


@dataclass(frozen=True)
class DataGradPaper(PaperParams):
    """DataGrad (Ororbia, Kifer, Giles 2017): appendix Tables 1-5, the claims of sec. 3, Figures 1-3."""

    experiment: str = param("", "the experiment holding the paper's models (Rect, L1, L2, DGL1/2, MT, MT-DGL1/2)")
    published: str = param("config/published/datagrad.yaml", "the published numbers (YAML)")
    r1: str = param("fgsm", "the attack playing the paper's R1 (sign) noise")
    r2: str = param("r2_paper", "the attack playing the paper's R2 noise, x + phi * 2g (grad_l2, normalise: false)")
    r2_equal_norm: str = param("", "grad_l2 at the L2 norm of R1 noise (a further finding); '' if not run")
    table_attackers: tuple[str, ...] = param(
        ("rect/default", "l1/default", "l2/default", "dgl1/default", "dgl2/default"),
        "attacker model ids of appendix Tables 1-5, in order (Rect, L1, L2, DGL1, DGL2)",
        min_items=5,
    )

    def experiments(self) -> list[str]:
        return [self.experiment]

    def check(self, where: str) -> None:
        if not self.experiment:
            raise ConfigError(f"{where}.experiment: name the experiment holding the DataGrad models")
        if len(self.table_attackers) != 5:
            raise ConfigError(
                f"{where}.table_attackers: Tables 1-5 need exactly 5 attackers, got {len(self.table_attackers)}"
            )
        _model_ids(self.table_attackers, f"{where}.table_attackers")

    def check_plan(self, experiments: Mapping[str, Any], where: str) -> None:
        exp = experiments[self.experiment]
        for attack in (self.r1, self.r2, self.r2_equal_norm):
            if attack and attack not in exp.attacks:
                raise ConfigError(f"{where}: attack {attack!r} is not run by experiment {self.experiment!r}")
        attackers = set(exp.attackers)
        for model_id in _model_ids(self.table_attackers, f"{where}.table_attackers"):
            if model_id not in attackers:
                raise ConfigError(
                    f"{where}.table_attackers: {model_id} is not an attacker of experiment {self.experiment!r}"
                )


# --- Learning with a Strong Adversary: config block ---


LWA_ROLES = ("normal", "dropout", "goodfellow", "lwa", "lwa_rep")  # the rows of Tables 1-3, in the paper's order


@dataclass(frozen=True)
class LWAPaper(PaperParams):
    """Learning with a Strong Adversary (Huang, Xu, Schuurmans, Szepesvari 2016): Tables 1-3, Figures 1-2 and the
    claims of sec. 7, from up to three experiments (MLPs, LeNet, CIFAR-10). A table's row is the model of the
    experiment that plays the role (Normal, Dropout, ...); a role missing from an experiment is left out."""

    mlp_experiment: str = param("", "experiment of Table 1 (2-hidden-layer MLPs, Table 1's widths); '': none")
    lenet_experiment: str = param("", "experiment of Table 2 and Figure 1 (LeNet); '': none")
    cifar_experiment: str = param("", "experiment of Table 3 (CIFAR-10, lwa_cifar); '': none")
    published: str = param("config/published/lwa.yaml", "the published numbers (YAML)")
    normal: str = param("plain/default", "model id of Normal (plain training) in each experiment")
    dropout: str = param("plain/dropout", "model id of Dropout (plain training with dropout)")
    goodfellow: str = param("goodfellow/default", "model id of Goodfellow's method")
    lwa: str = param("lwa/default", "model id of LWA (Algorithm 2)")
    lwa_rep: str = param("lwa_rep/default", "model id of LWA_Rep (Algorithm 3)")
    fixed_source: str = param(
        "",
        "whose Adv_Loss set is 'Fixed': '' the Normal network (sec. 7.2's text), or the model id of a separately "
        "trained normal network (the authors' code; what Tables 1-2's Normal rows imply)",
    )
    adv_loss: str = param("grad_l2", "attack label playing Adv_Loss (sec. 6.1.1 item 1: c g/||g||_2)")
    adv_loss_sign: str = param("sign_l2", "attack label playing Adv_Loss_Sign (c sign(g)/||sign(g)||_2)")
    adv_alpha: str = param("lwa_alpha", "attack label playing Adv_Alpha (Algorithm 1)")
    mnist_epsilon: float = param(1.5, "L2 budget of Tables 1-2 (pixel units)", gt=0)
    cifar_epsilon: float = param(
        0.25, "L2 budget of Table 3 in pixel units (the paper's 0.5 in (255 x - 117) / 128 units: 0.251)", gt=0
    )

    def experiments(self) -> list[str]:
        return [e for e in (self.mlp_experiment, self.lenet_experiment, self.cifar_experiment) if e]

    def roles(self) -> dict[str, str]:
        """Role (``normal``, ``dropout``, ...) -> model id."""
        return {role: getattr(self, role) for role in LWA_ROLES}

    def check(self, where: str) -> None:
        if not self.experiments():
            raise ConfigError(f"{where}: name at least one of mlp_experiment, lenet_experiment, cifar_experiment")
        for role, model_id in self.roles().items():
            ModelId.parse(model_id, f"{where}.{role}")
        if self.fixed_source:
            ModelId.parse(self.fixed_source, f"{where}.fixed_source")

    def check_plan(self, experiments: Mapping[str, Any], where: str) -> None:
        budgets = {self.mlp_experiment: self.mnist_epsilon, self.lenet_experiment: self.mnist_epsilon}
        budgets[self.cifar_experiment] = self.cifar_epsilon
        for name in self.experiments():
            exp = experiments[name]
            for key in ("adv_loss", "adv_loss_sign", "adv_alpha"):
                label = getattr(self, key)
                if label not in exp.attacks:
                    raise ConfigError(f"{where}.{key}: attack {label!r} is not run by experiment {name!r}")
                if not any(abs(e - budgets[name]) < 1e-9 for e in exp.attacks[label].epsilons):
                    raise ConfigError(
                        f"{where}: experiment {name!r} runs {label!r} without the tables' budget {budgets[name]:g}"
                    )
            attackers = set(exp.attackers)
            for key in ("normal", "fixed_source"):
                model_id = getattr(self, key)
                if model_id and ModelId.parse(model_id) not in attackers:
                    raise ConfigError(f"{where}.{key}: {model_id} is not an attacker of experiment {name!r}")
            if exp.evaluation.perturb != "correct":
                raise ConfigError(
                    f"experiments.{name}.evaluation.perturb: LWA's tables perturb only correctly classified points "
                    "(sec. 7.2, the authors' code): set it to 'correct'"
                )


# --- DeepDefense: config block ---


DEEPDEFENSE_NETWORKS = ("mlp", "lenet", "convnet", "nin")  # Table 1's MNIST and CIFAR-10 blocks, in order
DEEPDEFENSE_ROLES = ("reference", "parseval", "adversarial", "deepdefense")  # Table 1's rows, in order


@dataclass(frozen=True)
class DeepDefensePaper(PaperParams):
    """DeepDefense (Yan, Guo, Zhang 2018): Table 1 and supplementary Table 1 beside the published numbers,
    Figures 2, 4 and 5 and the claims of sec. 4, from one experiment per network. Every network experiment holds
    the four models of Table 1 under the same ids (and ``clean``, Figure 2's "Clean" curve) and reports eps_ref
    as the DeepDefense model's (``robustness.fgs.eps_ref_model``)."""

    published: str = param("config/published/deepdefense.yaml", "the published numbers (YAML)")
    mlp: str = param("", "experiment of Table 1's MNIST MLP block (784-500-150-10); '': not run")
    lenet: str = param("", "experiment of Table 1's MNIST LeNet block; '': not run")
    convnet: str = param("", "experiment of Table 1's CIFAR-10 ConvNet block; '': not run")
    nin: str = param("", "experiment of Table 1's CIFAR-10 NIN block; '': not run")
    reference: str = param("reference/pretrained", "model id of the reference (Table 1 'Reference')")
    parseval: str = param("parseval/default", "model id of Parseval training ('Par. Train')")
    adversarial: str = param("deepfool_at/default", "model id of DeepFool adversarial training ('Adv. Train')")
    deepdefense: str = param("deepdefense/default", "model id of DeepDefense (lambda 15, c 25, d 5)")
    clean: str = param("plain/default", "model id of fine-tuning on clean images (Figure 2 'Clean'); '': none")
    figure4: str = param("", "experiment with deepdefense variants over c and lambda, every layer (Fig. 4: LeNet)")
    figure5: str = param("", "experiment with deepdefense variants regularising one layer over c (Fig. 5: LeNet)")

    def networks(self) -> dict[str, str]:
        """Table 1's networks run: key (mlp, lenet, convnet, nin) -> experiment."""
        return {key: getattr(self, key) for key in DEEPDEFENSE_NETWORKS if getattr(self, key)}

    def roles(self) -> dict[str, str]:
        """Table 1's rows (reference, parseval, adversarial, deepdefense) -> model id."""
        return {role: getattr(self, role) for role in DEEPDEFENSE_ROLES}

    def experiments(self) -> list[str]:
        names = [*self.networks().values(), self.figure4, self.figure5]
        return list(dict.fromkeys(name for name in names if name))

    def check(self, where: str) -> None:
        if not self.networks():
            raise ConfigError(f"{where}: name the experiment of at least one network of Table 1 (mlp, lenet, ...)")
        for key, model_id in {**self.roles(), "clean": self.clean}.items():
            if model_id:
                ModelId.parse(model_id, f"{where}.{key}")

    def check_plan(self, experiments: Mapping[str, Any], where: str) -> None:
        for key, name in self.networks().items():
            exp = experiments[name]
            known = set(exp.model_ids())
            for role, model_id in {**self.roles(), "clean": self.clean}.items():
                if model_id and ModelId.parse(model_id) not in known:
                    raise ConfigError(
                        f"{where}.{role}: {model_id} is not a model of experiment {name!r} ({key}; known: "
                        f"{', '.join(sorted(map(str, known)))})"
                    )
            robustness = exp.robustness
            missing = sorted({"deepfool", "fgs"} - set(robustness.metrics))
            if not robustness.enabled or missing:
                raise ConfigError(
                    f"experiments.{name}.robustness: Table 1 needs the deepfool and fgs metrics (enabled, metrics)"
                )
            if robustness.fgs.eps_ref_model != self.deepdefense:
                raise ConfigError(
                    f"experiments.{name}.robustness.fgs.eps_ref_model: Table 1 reports every model at the "
                    f"DeepDefense model's eps_ref: set it to {self.deepdefense!r} "
                    f"(got {robustness.fgs.eps_ref_model!r})"
                )
        for key in ("figure4", "figure5"):
            name = getattr(self, key)
            if name and not any(v.id.method == "deepdefense" for v in experiments[name].variants):
                raise ConfigError(f"{where}.{key}: experiment {name!r} has no deepdefense variants")
            if name and not experiments[name].robustness.enabled:
                raise ConfigError(f"experiments.{name}.robustness: {key} needs the robustness metrics enabled")


# --- Latent disparity regularisation: config block ---


@dataclass(frozen=True)
class HLDRPaper(PaperParams):
    """HLDR (Schwartz & Ditzler 2021): Figures 2-6 and Table I with 95% confidence intervals over the
    cross-validation's folds, and the claims of sec. VI-VII. The roles follow from the experiment's variants:
    hldr, fimr and hgd without ``noise`` (D), with it (D_N), agnt (D_N), and the undefended model."""

    experiment: str = param(
        "", "the experiment holding the paper's models (undefended, hldr, fimr, hgd, agnt); several: by_dataset"
    )
    by_dataset: tuple[str, ...] = param(
        (),
        "the experiments, one per dataset, drawn in the paper's panels: Fashion-MNIST (a)/(b), CIFAR-10 (c)/(d) "
        "(Figs. 2-5; Fig. 6: (a)/(b) on D, (c)/(d) on D_N); instead of experiment",
    )
    published: str = param("config/published/hldr.yaml", "the published numbers (YAML)")
    undefended: str = param("plain/default", "model id of the undefended model (fine-tuned on benign data)")
    fgsm: str = param("fgsm", "attack label of the FGSM evaluation (Figures 2 and 4)")
    agn: str = param("agn", "attack label of the AGN evaluation (Figures 3 and 5); '': not run")
    attacker: str = param(
        "white_box",
        "'white_box': every model attacked through its own gradient (sec. II-B); or the model id whose adversarial "
        "sets every model is evaluated on (the authors' code: the undefended model)",
    )
    ddof: int = param(0, "delta degrees of freedom of the folds' std in mean +- 1.96 std / sqrt(folds) (code: 0)", ge=0)
    small_drop: float = param(2.0, "a benign accuracy drop (percentage points) the claims count as small", ge=0)
    near_speed: float = param(1.25, "time ratio up to which a method counts as 'nearly as fast' (Table I)", ge=1)
    agn_match: float = param(2.0, "percentage points within which HLDR 'matches' AGNT under AGN (sec. VII)", ge=0)

    def experiments(self) -> list[str]:
        return [self.experiment] if self.experiment else list(self.by_dataset)

    def check(self, where: str) -> None:
        if bool(self.experiment) == bool(self.by_dataset):
            raise ConfigError(
                f"{where}: name the experiment holding the HLDR models (experiment), or one per dataset (by_dataset), "
                "not both"
            )
        if len(set(self.by_dataset)) != len(self.by_dataset):
            raise ConfigError(f"{where}.by_dataset: an experiment is named twice: {list(self.by_dataset)}")
        ModelId.parse(self.undefended, f"{where}.undefended")
        if self.attacker != "white_box":
            ModelId.parse(self.attacker, f"{where}.attacker")

    def check_plan(self, experiments: Mapping[str, Any], where: str) -> None:
        seen: dict[str, str] = {}
        for name in self.experiments():
            dataset = experiments[name].dataset
            if dataset in seen:
                raise ConfigError(
                    f"{where}.by_dataset: experiments {seen[dataset]!r} and {name!r} both run on {dataset!r}: the "
                    "figures hold one panel per dataset"
                )
            seen[dataset] = name
            self._check_experiment(experiments[name], name, where)

    def _check_experiment(self, exp: Any, name: str, where: str) -> None:
        for key in ("fgsm", "agn"):
            label = getattr(self, key)
            if label and label not in exp.attacks:
                raise ConfigError(f"{where}.{key}: attack {label!r} is not run by experiment {name!r}")
        known = set(exp.model_ids())
        if ModelId.parse(self.undefended) not in known:
            raise ConfigError(f"{where}.undefended: {self.undefended} is not a model of experiment {name!r}")
        attackers = set(exp.attackers)
        wanted = known if self.attacker == "white_box" else {ModelId.parse(self.attacker)}
        missing = sorted(str(m) for m in wanted - attackers)
        if missing:
            raise ConfigError(
                f"{where}.attacker: {self.attacker!r} needs {missing} among the attackers of experiment {name!r}"
            )


# --- Cross-paper arena: config block ---


def parse_column(text: str, where: str) -> tuple[str, float]:
    """``"attack@epsilon"`` -> (attack label, budget)."""
    label, at, eps = text.partition("@")
    try:
        value = float(eps)
    except ValueError:
        value = -1.0
    if not at or not label or value < 0:
        raise ConfigError(f"{where}: {text!r} is not 'attack@epsilon' (e.g. 'pgd_linf@0.1')")
    return label, value


@dataclass(frozen=True)
class ArenaPaper(PaperParams):
    """Cross-paper arena: every method of the four papers and PGD adversarial training, fine-tuned from one reference
    for the same number of epochs, attacked white-box and by transfer from every other model; per arena (one
    experiment per network) a leaderboard with a rank per column and a mean rank, a robust-vs-clean figure and
    gradient-masking checks flagged per model. ``columns`` may mix several datasets' budgets: each arena shows the
    columns its experiment runs."""

    arenas: tuple[str, ...] = param(
        (), "the arena experiments, one per network (every method as a variant, attackers: all)", min_items=1
    )
    columns: tuple[str, ...] = param(
        ("fgsm@0.1", "pgd_linf@0.1", "autoattack@0.1", "pgd_l2@1.5", "deepfool@1.5", "agn@0.3"),
        "the leaderboard's threat models, 'attack@epsilon' (attack label, budget); an arena shows those it runs",
        min_items=1,
    )
    headline: tuple[str, ...] = param(
        ("pgd_linf@0.1",),
        "the headline threat model (figure, findings): the per-sample worst case at the norm and budget of the first "
        "of these (from columns) an arena runs",
    )
    clean_attack: str = param("fgsm", "attack label whose budget-0 white-box rows give the clean accuracy")
    rho_metrics: tuple[str, ...] = param(
        ("rho_2", "rho_inf"), "robustness.csv metrics shown and ranked beside the accuracies (DeepFool, FGS bisection)"
    )
    exclude: tuple[str, ...] = param(("reference/pretrained",), "model ids left off the leaderboard")
    baseline: str = param("plain/default", "model id of the undefended baseline the findings compare with")
    fgsm: str = param("fgsm", "masking check 2: the one-step L-inf attack label")
    pgd: str = param("pgd_linf", "masking checks 2 and 4: the L-inf PGD attack label")
    pgd_long: str = param("pgd_linf_long", "masking check 4: the same PGD with more steps or restarts ('': skip)")
    collapse_attack: str = param(
        "pgd_linf", "masking check 3: attack label whose largest budget must break every model (L-inf 0.5)"
    )
    collapse_accuracy: float = param(0.1, "masking check 3: most accuracy allowed at that largest budget", ge=0, le=1)
    gradient_free: str = param(
        "square", "masking check 5: the gradient-free attack label (Square) that must not beat the gradient attacks"
    )
    gradient_attacks: tuple[str, ...] = param(
        ("fgsm", "pgd_linf", "pgd_linf_long", "autoattack"),
        "masking check 5: the gradient attack labels of the same norm; the strongest at each budget is compared",
    )
    transfer_attacks: tuple[str, ...] = param(
        ("pgd_linf", "pgd_l2"),
        "masking check 1: the iterative attacks whose transfer must not beat white-box (a one-step attack's "
        "transfer often beats its white-box use without masking: its own gradient is only locally right)",
    )
    tol: float = param(
        0.03,
        "accuracy margin (fraction) a check must exceed to flag: test-set and random-start noise (1.5 points of "
        "standard error at 1000 points) and the min over many transfer attackers",
        ge=0,
    )

    def experiments(self) -> list[str]:
        return list(dict.fromkeys(self.arenas))

    def parsed_columns(self) -> list[tuple[str, float]]:
        return [parse_column(text, f"papers.arena.columns[{i}]") for i, text in enumerate(self.columns)]

    def runs(self, attacks: Mapping[str, Sequence[float]]) -> list[str]:
        """The columns an experiment runs (``attacks``: label -> budgets), in order."""
        return [
            text
            for text, (label, eps) in zip(self.columns, self.parsed_columns(), strict=True)
            if label in attacks and any(abs(e - eps) < 1e-9 for e in attacks[label])
        ]

    def headline_of(self, attacks: Mapping[str, Sequence[float]]) -> str:
        """The arena's headline threat model: the first of ``headline`` it runs ('' if none)."""
        shown = self.runs(attacks)
        return next((h for h in self.headline if h in shown), "")

    def check(self, where: str) -> None:
        if not self.arenas:
            raise ConfigError(f"{where}.arenas: name the arena experiments")
        for i, text in enumerate(self.columns):
            parse_column(text, f"{where}.columns[{i}]")
        for text in self.headline:
            if text not in self.columns:
                raise ConfigError(f"{where}.headline: {text!r} is not one of columns {list(self.columns)}")
        ModelId.parse(self.baseline, f"{where}.baseline")
        _model_ids(self.exclude, f"{where}.exclude")

    def check_plan(self, experiments: Mapping[str, Any], where: str) -> None:
        for name in self.experiments():
            self._check_arena(name, experiments[name], where)

    def _check_masking(self, name: str, exp: Any, where: str) -> None:
        """Every masking check must be able to run on experiment ``name``: a config on which one could not judge
        any model (no budget > 0, no budget shared by the attacks it compares, no budget large enough to break
        every model) is refused here, before any job, rather than leaving the models unflagged."""

        def budgets(label: str) -> list[float]:
            return [e for e in exp.attacks[label].epsilons if e > 0]

        def shared(a: str, b: str) -> bool:
            return any(abs(e - f) < 1e-9 for e in budgets(a) for f in budgets(b))

        def refuse(key: str, check: int, why: str) -> None:
            raise ConfigError(f"{where}.{key}: masking check {check} cannot run on experiment {name!r}: {why}")

        def runs(label: str) -> str:
            return f"{label!r} runs {list(exp.attacks[label].epsilons)}"

        for label in self.transfer_attacks:
            if not budgets(label):
                refuse("transfer_attacks", 1, f"{runs(label)}, no budget > 0")
        if not shared(self.fgsm, self.pgd):
            refuse("fgsm", 2, f"{runs(self.fgsm)} and {runs(self.pgd)}: no common budget > 0")
        collapse = exp.attacks[self.collapse_attack]
        if collapse.spec.norm != "linf" or max(collapse.epsilons) < 0.5:
            refuse(
                "collapse_attack",
                3,
                f"it needs an L-inf attack run at 0.5 or more (every input in [0, 1] is within 0.5 of the grey image, "
                f"so that budget breaks any classifier); {runs(self.collapse_attack)} ({collapse.spec.norm})",
            )
        if self.pgd_long and not shared(self.pgd, self.pgd_long):
            refuse("pgd_long", 4, f"{runs(self.pgd)} and {runs(self.pgd_long)}: no common budget > 0")
        if self.gradient_free:
            norm = exp.attacks[self.gradient_free].spec.norm
            for label in self.gradient_attacks:
                if exp.attacks[label].spec.norm != norm:
                    refuse(
                        "gradient_attacks",
                        5,
                        f"{label!r} is {exp.attacks[label].spec.norm}, {self.gradient_free!r} {norm}: compare one norm",
                    )
            if not any(shared(self.gradient_free, label) for label in self.gradient_attacks):
                refuse(
                    "gradient_free",
                    5,
                    f"{runs(self.gradient_free)}, sharing no budget > 0 with the gradient attacks "
                    + ", ".join(runs(label) for label in self.gradient_attacks),
                )

    def _check_arena(self, name: str, exp: Any, where: str) -> None:
        attacks = {label: attack.epsilons for label, attack in exp.attacks.items()}
        if not self.headline_of(attacks):
            raise ConfigError(
                f"{where}.headline: experiment {name!r} runs none of {list(self.headline)} (its attacks and budgets: "
                f"{ {label: list(eps) for label, eps in attacks.items()} })"
            )
        labels = [self.clean_attack, self.fgsm, self.pgd, self.pgd_long, self.collapse_attack, *self.transfer_attacks]
        labels += [self.gradient_free, *self.gradient_attacks] if self.gradient_free else []
        for label in labels:
            if label and label not in exp.attacks:
                raise ConfigError(f"{where}: attack {label!r} is not run by experiment {name!r}")
        self._check_masking(name, exp, where)
        if not any(e == 0 for e in exp.attacks[self.clean_attack].epsilons):
            raise ConfigError(
                f"{where}.clean_attack: {self.clean_attack!r} needs budget 0 in {name!r} (clean accuracy)"
            )
        models = set(exp.model_ids())
        missing = sorted(str(m) for m in models - set(exp.attackers))
        if missing:
            raise ConfigError(
                f"experiments.{name}.attackers: the arena's transfer columns need every model as an attacker "
                f"(attackers: all); missing {missing}"
            )
        if ModelId.parse(self.baseline) not in models:
            raise ConfigError(f"{where}.baseline: {self.baseline} is not a model of experiment {name!r}")
        groups = {"rho_2": "deepfool", "rho_inf": "fgs"}
        needed = sorted({groups.get(m, "") for m in self.rho_metrics} - {""} - set(exp.robustness.metrics))
        if self.rho_metrics and (not exp.robustness.enabled or needed):
            raise ConfigError(
                f"experiments.{name}.robustness: the arena's {list(self.rho_metrics)} need the metrics enabled "
                f"with the groups {needed or list(groups.values())}"
            )


def paper(
    name: str,
    params: type[PaperParams],
    title: str,
    reads: tuple[str, ...],
    summary: str,
    timed: tuple[str, ...] = (),
) -> PaperSpec:
    assert set(reads) <= set(READABLE), reads
    return PaperSpec(
        "paper", name, params, f"advreg.papers.{name}:render", summary, reads=reads, title=title, timed=timed
    )


PAPERS: Registry[PaperSpec] = Registry(
    "paper",
    paper(
        "datagrad",
        DataGradPaper,
        "DataGrad (Ororbia, Kifer, Giles 2017)",
        ("crosseval", "histories", "examples"),
        "appendix Tables 1-5 beside the published numbers, the claims of sec. 3, Figures 1-3",
    ),
    # --- Learning with a Strong Adversary: paper ---
    paper(
        "lwa",
        LWAPaper,
        "Learning with a Strong Adversary (Huang, Xu, Schuurmans, Szepesvari 2016)",
        ("crosseval", "histories"),
        "Tables 1-3 beside the published numbers, Figures 1-2, the claims of sec. 7",
    ),
    # --- DeepDefense: paper ---
    paper(
        "deepdefense",
        DeepDefensePaper,
        "DeepDefense (Yan, Guo, Zhang 2018)",
        # crosseval: each model's clean per-point correctness, for the paired clean-accuracy comparisons
        ("robustness", "histories", "crosseval"),
        "Table 1 and supp. Table 1 beside the published numbers, Figures 2, 4, 5, the claims of sec. 4",
    ),
    # --- Latent disparity regularisation: paper ---
    paper(
        "hldr",
        HLDRPaper,
        "Bolstering Adversarial Robustness with Latent Disparity Regularization (Schwartz & Ditzler 2021)",
        ("crosseval", "robustness", "timings"),
        "Figures 2-6 with 95% confidence intervals over folds, Table I beside the published times, the claims",
        # Table I (training time per sample of each method) and the claims page, which judges the timing claims
        timed=("claims.", "tables/table1."),
    ),
    # --- Cross-paper arena: paper ---
    paper(
        "arena",
        ArenaPaper,
        "Cross-paper arena",
        # timings: each model's optimiser steps; worstcase: the per-sample worst case per threat model
        ("crosseval", "robustness", "timings", "worstcase"),
        "every defence of the four papers and PGD-AT on one network: leaderboard, robust vs clean, masking checks",
    ),
)
