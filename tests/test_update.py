"""Template updates: two template versions built here, a model rendered from the
first and edited by its user, then `mytitan update` to the second."""

import shutil
import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml

from mytitan_scaffold import registry, template_history
from mytitan_scaffold.cli import run
from mytitan_scaffold.release import record
from mytitan_scaffold.template_source import template_root

from .conftest import (
    assert_hf_class_gives_equal_logits,
    assert_ruff_clean,
    import_package,
)
from .test_cli import tree_hash

IDENTITY = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
V2_LINE = '"""Hyperparameters of the {{ model_class }} model (template v2)."""'


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def _template_copy(path: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copy(template_root() / "copier.yml", path / "copier.yml")
    shutil.copytree(template_root() / "template", path / "template")
    return path


def _make_v2(tpl: Path) -> None:
    """A visible change in config.py's docstring, and one in the README."""
    config = tpl / "template" / "model" / "config.py.jinja"
    text = config.read_text()
    old = '"""Hyperparameters of the {{ model_class }} model."""'
    assert old in text
    config.write_text(text.replace(old, V2_LINE))
    readme = tpl / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nTemplate v2 adds this line.\n")


@pytest.fixture
def versions(tmp_path) -> Path:
    """A template git repo tagged v1 and v2."""
    tpl = _template_copy(tmp_path / "tpl")
    git(tpl, "init", "--quiet")
    git(tpl, "add", "-A")
    git(tpl, "commit", "--quiet", "-m", "v1")
    git(tpl, "tag", "v1")
    _make_v2(tpl)
    git(tpl, "commit", "--quiet", "-am", "v2")
    git(tpl, "tag", "v2")
    return tpl


def _project(tmp_path: Path, src: str, ref: str, **answers) -> Path:
    """A git project with model `demo` rendered from `src` at `ref`, committed."""
    project = tmp_path / "project"
    model = project / "models" / "demo"
    copier.run_copy(
        src,
        str(model),
        data={"model_name": "demo", **answers},
        vcs_ref=ref,
        defaults=True,
        quiet=True,
    )
    (project / "models" / "__init__.py").write_text(
        registry.new_registry_source("demo")
    )
    git(project, "init", "--quiet")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "render")
    return project


def _mytitan(project: Path, monkeypatch, capsys, *args: str):
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "argv", ["mytitan", *args])
    with pytest.raises(SystemExit) as exit_info:
        run()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def _user_edits(project: Path) -> None:
    model_py = project / "models/demo/model/model.py"
    model_py.write_text(
        model_py.read_text() + "\n\ndef user_helper() -> int:\n    return 42\n"
    )
    (project / "models/demo/README.md").unlink()
    git(project, "commit", "--quiet", "-am", "my edits")


def test_update_merges_template_changes_and_keeps_user_edits(
    tmp_path, versions, monkeypatch, capsys
):
    project = _project(tmp_path, str(versions), "v1")
    _user_edits(project)
    code, out, err = _mytitan(
        project, monkeypatch, capsys, "update", "models/demo", "--to", "v2"
    )
    assert code == 0, out + err
    assert "updated models/demo: v1 -> v2" in out
    model = project / "models" / "demo"
    assert (
        "(template v2)" in (model / "model" / "config.py").read_text()
    )  # template change
    assert (
        "def user_helper()" in (model / "model" / "model.py").read_text()
    )  # user edit
    assert not (model / "README.md").exists()  # deleted stays deleted
    assert (
        yaml.safe_load((model / ".copier-answers.yml").read_text())["_commit"] == "v2"
    )
    names = registry.registered_names((project / "models/__init__.py").read_text())
    assert names == ["demo"]


def test_overlapping_edit_leaves_inline_conflict_and_exit_code(
    tmp_path, versions, monkeypatch, capsys
):
    project = _project(tmp_path, str(versions), "v1")
    config = project / "models/demo/model/config.py"
    text = config.read_text()
    config.write_text(text.replace("model.", "model, edited by me.", 1))
    git(project, "commit", "--quiet", "-am", "overlapping edit")
    code, out, err = _mytitan(
        project, monkeypatch, capsys, "update", "models/demo", "--to", "v2"
    )
    assert code == 4, out + err
    assert "conflict: models/demo/model/config.py" in out
    merged = config.read_text()
    assert "<<<<<<< " in merged and ">>>>>>> " in merged
    assert "edited by me" in merged and "(template v2)" in merged


def test_dirty_model_folder_is_refused(tmp_path, versions, monkeypatch, capsys):
    project = _project(tmp_path, str(versions), "v1")
    (project / "models/demo/model/model.py").write_text("# uncommitted\n")
    before = tree_hash(project / "models")
    code, _, err = _mytitan(
        project, monkeypatch, capsys, "update", "models/demo", "--to", "v2"
    )
    assert code == 2 and "has uncommitted changes" in err
    assert tree_hash(project / "models") == before


def test_dry_run_shows_the_change_and_writes_nothing(
    tmp_path, versions, monkeypatch, capsys
):
    project = _project(tmp_path, str(versions), "v1")
    before = tree_hash(project)
    code, out, err = _mytitan(
        project, monkeypatch, capsys, "update", "models/demo", "--to", "v2", "--dry-run"
    )
    assert code == 0, out + err
    assert "would update models/demo: v1 -> v2" in out
    assert "+" + V2_LINE.replace("{{ model_class }}", "Demo") in out
    assert tree_hash(project) == before


def _update_answer(project, monkeypatch, capsys, answer):
    """`mytitan update models/demo --to v1 -d ANSWER`: (exit code, out, err)."""
    return _mytitan(
        project,
        monkeypatch,
        capsys,
        "update",
        "models/demo",
        "--to",
        "v1",
        "-d",
        answer,
    )


def test_changed_answer_goes_through_the_same_merge(
    tmp_path, versions, monkeypatch, capsys
):
    project = _project(tmp_path, str(versions), "v1")
    _user_edits(project)
    code, out, err = _update_answer(project, monkeypatch, capsys, "qk_norm=true")
    assert code == 0, out + err
    model_py = (project / "models/demo/model/model.py").read_text()
    assert "self.q_norm" in model_py and "def user_helper()" in model_py
    answers = yaml.safe_load((project / "models/demo/.copier-answers.yml").read_text())
    assert answers["qk_norm"] is True


def test_changed_answer_that_copier_would_skip_is_refused_unchanged(
    tmp_path, versions, monkeypatch, capsys
):
    project = _project(tmp_path, str(versions), "v1")
    before = tree_hash(project)
    code, out, err = _update_answer(project, monkeypatch, capsys, "qk_norm_scope=full")
    assert code == 2, out + err
    assert "--data qk_norm_scope is not used" in err and "when qk_norm" in err
    assert tree_hash(project) == before


def test_missing_registry_entry_is_restored(tmp_path, versions, monkeypatch, capsys):
    project = _project(tmp_path, str(versions), "v1")
    (project / "models/__init__.py").write_text("_supported_models = frozenset([])\n")
    git(project, "commit", "--quiet", "-am", "lost the entry")
    code, out, err = _mytitan(
        project, monkeypatch, capsys, "update", "--all", "--to", "v2"
    )
    assert code == 0, out + err
    assert "restored demo" in out
    names = registry.registered_names((project / "models/__init__.py").read_text())
    assert names == ["demo"]


def test_update_from_shipped_history_with_an_empty_cache(tmp_path, monkeypatch, capsys):
    """A teammate's machine: the model names the cache repository, which does not
    exist there yet; mytitan fills it from the bundle shipped in the package."""
    root = tmp_path / "release"
    tpl = _template_copy(root)
    bundle, digests = tmp_path / "history.bundle", tmp_path / "history.json"
    assert record(tpl, "1.0.0", bundle, digests)
    _make_v2(tpl)
    assert record(tpl, "2.0.0", bundle, digests)
    assert not record(tpl, "2.0.0", bundle, digests)  # idempotent

    monkeypatch.setenv(template_history.CACHE_ENV, str(tmp_path / "cache-author"))
    src = template_history.materialize(bundle)
    project = _project(tmp_path, src, "v1.0.0")
    shutil.rmtree(tmp_path / "cache-author")  # as on a machine that never had it

    monkeypatch.setattr(template_history, "BUNDLE", bundle)
    code, out, err = _mytitan(
        project, monkeypatch, capsys, "update", "models/demo", "--to", "v2.0.0"
    )
    assert code == 0, out + err
    assert "(template v2)" in (project / "models/demo/model/config.py").read_text()


def test_release_refuses_changed_template_under_the_same_version(tmp_path):
    tpl = _template_copy(tmp_path / "tpl")
    bundle, digests = tmp_path / "h.bundle", tmp_path / "h.json"
    record(tpl, "1.0.0", bundle, digests)
    _make_v2(tpl)
    with pytest.raises(Exception, match="bump __version__"):
        record(tpl, "1.0.0", bundle, digests)


def test_shipped_history_holds_the_current_version():
    """The release step was run for this version and this template: run
    `python -m mytitan_scaffold.release` (after bumping __version__) when it fails."""
    tag = template_history.release_tag()
    heads = template_history.git("bundle", "list-heads", str(template_history.BUNDLE))
    assert f"refs/tags/{tag}" in heads
    assert template_history.is_released(), (
        "copier.yml or template/ changed since the release was recorded: bump "
        "__version__ and run `python -m mytitan_scaffold.release`"
    )


def test_shipped_history_overrides_a_stale_cache(tmp_path, monkeypatch):
    """The bundle is the authority for its versions, even over an older cache."""
    monkeypatch.setenv(template_history.CACHE_ENV, str(tmp_path / "cache"))
    tpl = _template_copy(tmp_path / "tpl")
    first, second = tmp_path / "a.bundle", tmp_path / "b.bundle"
    record(tpl, "1.0.0", first, tmp_path / "a.json")
    _make_v2(tpl)
    record(tpl, "1.0.0", second, tmp_path / "b.json")
    template_history.materialize(first)
    template_history.materialize(second)
    _, repo = template_history.cache_repo()
    config = template_history.git(
        "show", "v1.0.0:template/model/config.py.jinja", cwd=repo
    )
    assert "(template v2)" in config


def test_update_across_shipped_releases(tmp_path, monkeypatch, capsys):
    """A user's MoE model rendered from the shipped v0.2.0 and edited takes the
    current release (v0.3.0 added infra/pipeline.py) and keeps the edit."""
    monkeypatch.setenv(template_history.CACHE_ENV, str(tmp_path / "cache"))
    src = template_history.materialize(template_history.BUNDLE)
    answers = {"moe": True, "moe_experts": 4, "moe_load_balancing": "expert_bias"}
    project = _project(tmp_path, src, "v0.2.0", **answers)
    model = project / "models" / "demo"
    assert not (model / "infra" / "pipeline.py").exists()
    _user_edits(project)
    code, out, err = _mytitan(project, monkeypatch, capsys, "update", "models/demo")
    assert code == 0, out + err
    tag = template_history.release_tag()
    assert f"updated models/demo: v0.2.0 -> {tag}" in out
    assert "pipeline_demo" in (model / "__init__.py").read_text()
    assert (
        "_exclude_metadata_inference" in (model / "infra" / "pipeline.py").read_text()
    )
    assert "def user_helper()" in (model / "model" / "model.py").read_text()
    assert yaml.safe_load((model / ".copier-answers.yml").read_text())["_commit"] == tag
    assert_ruff_clean(model)
    spec = import_package(model, "updated_demo").get_train_spec()
    assert spec.pipelining_fn.__name__ == "pipeline_demo"


@pytest.mark.parametrize(
    ("version", "answers", "before", "after"),
    [
        # v0.5.0 called post-norm + qk-norm across heads + a sliding window OLMo 2,
        # which has no window; OLMo 3 has one.
        (
            "v0.5.0",
            {
                "norm_placement": "post",
                "qk_norm": True,
                "qk_norm_scope": "full",
                "sliding_window": 4096,
                "global_every": 4,
            },
            '"Olmo2ForCausalLM"',
            '"Olmo3ForCausalLM"',
        ),
        # v0.27.0 had no class for parallel LayerNorm blocks around an exact-GELU
        # MLP (its hf_config refused to write a config.json); Falcon has them.
        (
            "v0.27.0",
            {
                "norm": "layernorm",
                "norm_placement": "parallel",
                "ffn": "gelu",
                "linear_bias": True,
            },
            "None",
            '"FalconForCausalLM"',
        ),
        # v0.28.0 had no class for pre-norm LayerNorm blocks of biased multi-head
        # attention around an exact-GELU MLP; GPT-NeoX (without its parallel
        # residual) has them, and stacks q, k and v head by head.
        (
            "v0.28.0",
            {
                "norm": "layernorm",
                "ffn": "gelu",
                "linear_bias": True,
                "n_kv_heads": 32,
            },
            "None",
            '"GPTNeoXForCausalLM"',
        ),
        # v0.40.0 learned positions, but had no class for GPT-2's blocks with
        # multi-query attention; GPTBigCode (StarCoder 1) has them, and stacks q,
        # k and v by key/value head. (v0.41.0 also computes rotary.)
        (
            "v0.40.0",
            {
                "positional": "learned",
                "norm": "layernorm",
                "ffn": "gelu_tanh",
                "linear_bias": True,
                "n_kv_heads": 1,
            },
            "None",
            '"GPTBigCodeForCausalLM"',
        ),
    ],
)
def test_update_gives_a_model_the_class_a_later_release_added(
    tmp_path, monkeypatch, capsys, version, answers, before, after
):
    """A model rendered from an older release whose class was wrong or missing
    takes the right one on `mytitan update`, keeps the user's edits, and exports
    with the logits transformers computes."""
    monkeypatch.setenv(template_history.CACHE_ENV, str(tmp_path / "cache"))
    src = template_history.materialize(template_history.BUNDLE)
    project = _project(tmp_path, src, version, **answers)
    model = project / "models" / "demo"
    adapter_file = model / "model" / "state_dict_adapter.py"
    assert f"HF_ARCHITECTURE = {before}" in adapter_file.read_text()
    _user_edits(project)
    code, out, err = _mytitan(project, monkeypatch, capsys, "update", "models/demo")
    assert code == 0, out + err
    assert f"HF_ARCHITECTURE = {after}" in adapter_file.read_text()
    assert "def user_helper()" in (model / "model" / "model.py").read_text()
    assert_ruff_clean(model)
    module = f"class_update_{version.replace('.', '_')}"
    spec = import_package(model, module).get_train_spec()
    adapter = sys.modules[f"{module}.model.state_dict_adapter"]
    assert_hf_class_gives_equal_logits(spec, adapter, tmp_path)


def test_update_gives_the_debug_flavor_fewer_experts(tmp_path, monkeypatch, capsys):
    """A 64-expert model rendered at v0.37.0 trained all 64 in its debugmodel; from
    v0.38.0 the debug flavor routes 8 of them alike, the real flavors keep 64, and
    the user's edit stays."""
    monkeypatch.setenv(template_history.CACHE_ENV, str(tmp_path / "cache"))
    src = template_history.materialize(template_history.BUNDLE)
    project = _project(tmp_path, src, "v0.37.0", moe=True, moe_experts=64)
    model = project / "models" / "demo"
    assert "moe_routing" not in (model / "__init__.py").read_text()
    _user_edits(project)
    code, out, err = _mytitan(project, monkeypatch, capsys, "update", "models/demo")
    assert code == 0, out + err
    assert_ruff_clean(model)
    assert "def user_helper()" in (model / "model" / "model.py").read_text()
    flavors = import_package(model, "fewer_experts").get_train_spec().model_args
    experts = {name: args.moe_args.num_experts for name, args in flavors.items()}
    assert experts == {"debugmodel": 8, "1B": 64, "8B": 64}
