"""docker-compose.yml as Debian's `docker-compose config` resolves it (no engine needed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from agentbus.management import CredentialStore
from agentbus.settings import Settings
from agentbus.topology import REFERENCE_AGENTS, build_topology, user_name
from tests.deploy.support import ROOT, clean_env, run

COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = ("guardrail", "orchestrator")
AGENTBUS_SERVICES = (*SERVICES, *REFERENCE_AGENTS)


Compose = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def compose_config(docker_compose: str, tmp_path_factory: pytest.TempPathFactory) -> Compose:
    """`docker-compose config` as data; an empty env file, so a developer's .env changes nothing."""
    empty = tmp_path_factory.mktemp("compose") / "empty.env"
    empty.write_text("")

    def render(*extra: str, **env: str) -> dict[str, Any]:
        proc = run([docker_compose, "-f", COMPOSE_FILE, "--env-file", empty, *extra, "config"],
                   env=clean_env(**env))
        config: dict[str, Any] = yaml.safe_load(proc.stdout)
        return config

    return render


@pytest.fixture(scope="module")
def config(compose_config: Compose) -> dict[str, Any]:
    return compose_config()


@pytest.fixture(scope="module")
def services(config: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = config["services"]
    return result


def mounts(service: dict[str, Any]) -> set[tuple[str, str]]:
    """(source, target) of each volume, whether compose printed the short or the long syntax."""
    out = set()
    for v in service.get("volumes", []):
        if isinstance(v, str):
            source, target = v.split(":")[:2]
            out.add((source, target))
        else:
            out.add((v["source"], v["target"]))
    return out


def broker_user_of(service: str) -> str:
    return user_name(service if service in SERVICES else f"agent:{service}")


def test_compose_check_script_passes() -> None:
    proc = run([ROOT / "scripts" / "compose_check.sh"], env=clean_env())
    assert "docker-compose.yml is valid; 14 services present" in proc.stdout


def test_compose_check_script_fails_on_an_invalid_file(tmp_path: Any) -> None:
    # The check is real: a misspelt key makes docker-compose config, and so the script, fail.
    broken = tmp_path / "repo"
    (broken / "scripts").mkdir(parents=True)
    (broken / "scripts" / "compose_check.sh").write_text((ROOT / "scripts" / "compose_check.sh").read_text())
    (broken / "docker-compose.yml").write_text(COMPOSE_FILE.read_text().replace(
        "restart: unless-stopped", "restrat: unless-stopped", 1))
    proc = run(["bash", broken / "scripts" / "compose_check.sh"], check=False,
               env=clean_env(AGENTBUS_PYTHON=str(ROOT / ".venv" / "bin" / "python")))
    assert proc.returncode != 0
    assert "restrat" in proc.stderr


def test_every_service_is_there(services: dict[str, Any]) -> None:
    assert set(services) == {"rabbitmq", "topology", *AGENTBUS_SERVICES, "postgres"}
    assert services["postgres"]["profiles"] == ["postgres"]
    assert [s for s, body in services.items() if "profiles" in body] == ["postgres"]


def test_start_order(services: dict[str, Any]) -> None:
    assert services["topology"]["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}}
    for name in AGENTBUS_SERVICES:
        assert services[name]["depends_on"] == {"topology": {"condition": "service_completed_successfully"}}


def test_rabbitmq_broker(services: dict[str, Any], config: dict[str, Any]) -> None:
    rabbit = services["rabbitmq"]
    assert re.fullmatch(r"rabbitmq:(3\.13|4\.\d+)-management", rabbit["image"])
    assert "rabbitmq_consistent_hash_exchange" in " ".join(rabbit["command"])
    assert rabbit["healthcheck"]["test"][:2] == ["CMD", "rabbitmq-diagnostics"]
    assert rabbit["environment"]["RABBITMQ_DEFAULT_VHOST"] == "agentbus"
    assert "rabbitmq-data" in config["volumes"]
    assert ("rabbitmq-data", "/var/lib/rabbitmq") in mounts(rabbit)


def test_each_service_uses_its_own_broker_user_with_the_password_topology_apply_sets(
        services: dict[str, Any]) -> None:
    topology_env = services["topology"]["environment"]
    for name in AGENTBUS_SERVICES:
        url = urlsplit(services[name]["environment"]["AGENTBUS_AMQP_URL"])
        user = broker_user_of(name)
        assert (url.hostname, url.port, url.path) == ("rabbitmq", 5672, "/agentbus"), name
        assert unquote(url.username or "") == user
        assert unquote(url.password or "") == topology_env[CredentialStore.env_name(user)], name


def test_topology_step_gets_a_password_for_every_topology_user(services: dict[str, Any]) -> None:
    env = services["topology"]["environment"]
    users = build_topology(agents=REFERENCE_AGENTS).users
    assert {k for k in env if k.startswith("AGENTBUS_PASSWORD_")} == {
        CredentialStore.env_name(u.name) for u in users}
    assert services["topology"]["command"] == [
        "agentbus", "topology", "apply", "--agents", ",".join(REFERENCE_AGENTS)]
    assert services["topology"]["restart"] == "no"
    known = services["orchestrator"]["environment"]["AGENTBUS_KNOWN_AGENTS"]
    assert known.split(",") == list(REFERENCE_AGENTS)


def test_no_real_secrets_only_obvious_dev_defaults(services: dict[str, Any]) -> None:
    env = services["topology"]["environment"]
    passwords = [v for k, v in env.items() if k.startswith("AGENTBUS_PASSWORD_")]
    passwords += [services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"],
                  services["postgres"]["environment"]["POSTGRES_PASSWORD"]]
    assert len(passwords) == len(build_topology(agents=REFERENCE_AGENTS).users) + 2
    assert all(p.startswith("dev-only-") for p in passwords)
    for name in REFERENCE_AGENTS:
        assert services[name]["environment"]["AGENTBUS_LLM_API_KEY"] == ""


def test_passwords_come_from_the_environment(compose_config: Compose) -> None:
    config = compose_config(AGENTBUS_PASSWORD_AGENTBUS_AGENT_WRITER="s3cret-Writer_1",
                            AGENTBUS_RABBITMQ_ADMIN_PASSWORD="adminpw-123")
    services = config["services"]
    assert urlsplit(services["writer"]["environment"]["AGENTBUS_AMQP_URL"]).password == "s3cret-Writer_1"
    assert services["topology"]["environment"]["AGENTBUS_PASSWORD_AGENTBUS_AGENT_WRITER"] == "s3cret-Writer_1"
    assert services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"] == "adminpw-123"
    assert urlsplit(services["topology"]["environment"]["AGENTBUS_AMQP_URL"]).password == "adminpw-123"


def test_images_builds_restart_policies_and_limits(services: dict[str, Any]) -> None:
    for name in AGENTBUS_SERVICES:
        body = services[name]
        assert body["image"] == f"agentbus/{name}:dev"
        assert body["build"]["args"] == {"SERVICE": name}
        assert body["build"]["dockerfile"] == "Dockerfile"
        assert body["restart"] == "unless-stopped"
        assert body["read_only"] is True
        assert body["cap_drop"] == ["ALL"]
    assert services["topology"]["build"]["args"] == {"SERVICE": "topology"}
    for name, body in services.items():
        if name != "topology":
            assert body["deploy"]["resources"]["limits"]["memory"], name


def test_services_share_the_settings_queue_arguments_depend_on(services: dict[str, Any]) -> None:
    defaults = {name: f.default for name, f in Settings.model_fields.items()}
    for name in ("topology", *AGENTBUS_SERVICES):
        env = services[name]["environment"]
        assert env["AGENTBUS_PARTITIONS"] == str(defaults["partitions"])
        assert env["AGENTBUS_DELIVERY_LIMIT"] == str(defaults["delivery_limit"])
        assert env["AGENTBUS_RETRY_DELAY_MS"] == str(defaults["retry_delay_ms"])


def test_orchestrator_keeps_sagas_in_a_volume_or_postgres(compose_config: Compose,
                                                          services: dict[str, Any]) -> None:
    orchestrator = services["orchestrator"]
    assert orchestrator["environment"]["AGENTBUS_SAGA_STORE_URL"] == "sqlite:////app/.agentbus/sagas.db"
    assert ("orchestrator-data", "/app/.agentbus") in mounts(orchestrator)
    url = "postgresql://agentbus:pw@postgres:5432/agentbus"
    config = compose_config("--profile", "postgres", AGENTBUS_SAGA_STORE_URL=url)
    assert config["services"]["orchestrator"]["environment"]["AGENTBUS_SAGA_STORE_URL"] == url
    assert config["services"]["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]


def test_file_uses_anchors_instead_of_repeating_itself() -> None:
    text = COMPOSE_FILE.read_text()
    assert text.count("<<: *service") == len(AGENTBUS_SERVICES)
    assert text.count("<<: *agent-env") == len(REFERENCE_AGENTS)
    assert yaml.safe_load(text)["x-service"]["restart"] == "unless-stopped"
    assert text.count("restart: unless-stopped") == 3  # x-service, rabbitmq, postgres


def test_docs_env_generator_sets_every_password_the_compose_file_reads(tmp_path: Any) -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text()
    script = docs.split("python3 - > .env <<'PY'\n", 1)[1].split("\nPY\n", 1)[0]
    generated = run(["python3", "-c", script]).stdout
    names = {line.split("=", 1)[0] for line in generated.splitlines()}
    read = set(re.findall(r"\$\{(AGENTBUS_\w*PASSWORD\w*):-", COMPOSE_FILE.read_text()))
    assert names == read
    assert all(re.fullmatch(r"[0-9a-f]{40}", line.split("=", 1)[1]) for line in generated.splitlines())
