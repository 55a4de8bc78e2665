"""Commands of the registry, impact assessment and audit trail: ``haia registry``, ``haia assess``,
``haia verify``, ``haia keys`` and ``haia sign``."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from haia.errors import HaiaError

console = Console()
err = Console(stderr=True)

As = Annotated[str | None, typer.Option("--as", help="The registered user acting")]
Url = Annotated[str | None, typer.Option(
    "--db", help="Registry database URL  [default: $HAIA_DATABASE_URL or $HAIA_HOME/registry.db]")]


def _registry(url: str | None) -> Any:
    from haia.registry.service import Policy, Registry

    policy = Policy(
        at_scale_users_per_month=int(os.environ.get("HAIA_AT_SCALE_USERS", 10_000)),
        at_scale_queries_per_month=int(os.environ.get("HAIA_AT_SCALE_QUERIES", 100_000)))
    return Registry(url, policy)


def _show(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(data, default=str))
        return
    table = Table(show_header=False)
    for key, value in data.items():
        if key != "history":
            table.add_row(key, json.dumps(value) if isinstance(value, list | dict) else str(value))
    console.print(table)
    for event in data.get("history", []):
        console.print(f"  #{event['seq']} {event['at']} {event['kind']} by {event['actor']}")


def register(app: typer.Typer) -> None:
    """Add the registry, assessment and trail commands to ``app``."""
    registry = typer.Typer(no_args_is_help=True, help="The registry of AI systems, versions, "
                           "deployments, audits, incidents and feedback.")
    add = typer.Typer(no_args_is_help=True, help="Add a record (each one is ledgered).")
    registry.add_typer(add, name="add")
    app.add_typer(registry, name="registry")

    @add.command("organisation")
    def add_organisation(name: str, kind: Annotated[str, typer.Option(
            help="developer | deployer | auditor | regulator | other")] = "other",
            country: Annotated[str | None, typer.Option()] = None,
            actor: As = None, db: Url = None) -> None:
        """Register an organisation (admin)."""
        _show(_registry(db).add_organisation(name, kind=kind, country=country, actor=actor),
              False)

    @add.command("user")
    def add_user(name: str, role: Annotated[str, typer.Option(
            help="admin | auditor | developer | reviewer | public")],
            org: Annotated[str | None, typer.Option(help="Organisation name or id")] = None,
            email: Annotated[str | None, typer.Option()] = None,
            actor: As = None, db: Url = None) -> None:
        """Register a user (admin; the very first user must be an admin and needs no --as)."""
        _show(_registry(db).add_user(name, role, organisation=org, email=email, actor=actor),
              False)

    @add.command("system")
    def add_system(name: str,
                   developer: Annotated[str, typer.Option(help="Developer organisation")],
                   intended_use: Annotated[str, typer.Option(help="What it is for")],
                   setting: Annotated[str, typer.Option(help="Clinical setting")],
                   users: Annotated[str, typer.Option(help="Intended users")],
                   modality: Annotated[list[str] | None, typer.Option(
                       help="Input modality (repeatable): text, image, data, audio")] = None,
                   provider: Annotated[str | None, typer.Option(help="Model provider")] = None,
                   actor: As = None, db: Url = None) -> None:
        """Register an AI system (developer of that organisation, or admin)."""
        _show(_registry(db).add_system(
            name, developer=developer, intended_use=intended_use, clinical_setting=setting,
            intended_users=users, modalities=modality, model_provider=provider, actor=actor),
            False)

    @add.command("version")
    def add_version(system: str, version: str,
                    model_id: Annotated[str, typer.Option(help="e.g. openai:gpt-x@URL")],
                    weights: Annotated[str | None, typer.Option(
                        help="Weights hash or API version")] = None,
                    docs: Annotated[str | None, typer.Option(help="Documentation link")] = None,
                    actor: As = None, db: Url = None) -> None:
        """Register a version of a system."""
        _show(_registry(db).add_version(system, version, model_id=model_id,
                                        weights_or_api_version=weights, documentation=docs,
                                        actor=actor), False)

    @add.command("deployment")
    def add_deployment(version_id: int, site: str,
                       start: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
                       users_per_month: Annotated[int, typer.Option()] = 0,
                       queries_per_month: Annotated[int, typer.Option()] = 0,
                       actor: As = None, db: Url = None) -> None:
        """Register where a version is (or will be) deployed, and at what scale."""
        try:
            started = date.fromisoformat(start) if start else None
        except ValueError:
            raise HaiaError(f"--start {start!r}: expected a date YYYY-MM-DD") from None
        _show(_registry(db).add_deployment(version_id, site, start_date=started,
                                           users_per_month=users_per_month,
                                           queries_per_month=queries_per_month, actor=actor),
              False)

    @add.command("incident")
    def add_incident(deployment_id: int,
                     severity: Annotated[str, typer.Option(help="low|medium|high|critical")],
                     description: Annotated[str, typer.Option()],
                     actor: As = None, db: Url = None) -> None:
        """Report an incident against a deployment (re-opens an approved system's review)."""
        _show(_registry(db).report_incident(deployment_id, severity=severity,
                                            description=description, reporter=actor), False)

    @add.command("feedback")
    def add_feedback(system: str,
                     stakeholder: Annotated[str, typer.Option(
                         help="clinician | patient | developer | civil_society | public")],
                     text: Annotated[str, typer.Option()],
                     actor: As = None, db: Url = None) -> None:
        """Record stakeholder feedback on a system (open to everyone)."""
        _show(_registry(db).add_feedback(system, stakeholder=stakeholder, text=text,
                                         author=actor), False)

    @registry.command("list")
    def list_(table: Annotated[str, typer.Argument(
            help="organisations | users | systems | versions | deployments | audits | "
                 "assessments | incidents | feedback")],
            as_json: Annotated[bool, typer.Option("--json")] = False, db: Url = None) -> None:
        """List the records of one table."""
        rows = _registry(db).list(table)
        if as_json:
            console.print_json(json.dumps(rows, default=str))
            return
        if not rows:
            console.print(f"no {table}")
            return
        out = Table(title=table)
        columns = [k for k in rows[0] if k not in {"answers", "findings", "reasons"}]
        for column in columns:
            out.add_column(column)
        for row in rows:
            out.add_row(*(str(row[c]) for c in columns))
        console.print(out)

    @registry.command("show")
    def show(table: str, ident: str,
             as_json: Annotated[bool, typer.Option("--json")] = False, db: Url = None) -> None:
        """Show one record and its ledger history."""
        _show(_registry(db).show(table, ident), as_json)

    @registry.command("move")
    def move(system: str, action: Annotated[str, typer.Argument(
                 help="submit | review | approve | reject | monitor | retire")],
             note: Annotated[str | None, typer.Option()] = None,
             actor: As = None, db: Url = None) -> None:
        """Move a system through the approval workflow."""
        data = _registry(db).transition(system, action, actor=actor, note=note)
        console.print(f"{data['name']}: {data['status']}")

    @registry.command("root")
    def root(db: Url = None) -> None:
        """Print the ledger's size and Merkle root (publish it to make rewriting visible)."""
        size, digest = _registry(db).root()
        console.print(f"events {size}\nroot   {digest}")

    @registry.command("proof")
    def proof(seq: int, db: Url = None) -> None:
        """Print an inclusion proof of ledger event SEQ (JSON)."""
        console.print_json(json.dumps(_registry(db).proof(seq)))

    @app.command()
    def assess(
        system: Annotated[str | None, typer.Argument(
            help="Registered system to record the assessment for (omit to only score)")] = None,
        answers: Annotated[Path | None, typer.Option(help="Answers file (YAML)")] = None,
        template: Annotated[bool, typer.Option(
            "--template", help="Print a blank answers file with every question")] = False,
        actor: As = None, db: Url = None,
    ) -> None:
        """Score an impact assessment to a risk tier (I-IV) and record it against a system."""
        from haia.assessment.score import load_answers, score
        from haia.assessment.score import template as blank

        if template:
            typer.echo(blank(), nl=False)
            return
        if answers is None:
            raise HaiaError("give --answers FILE (make one with 'haia assess --template')")
        data = load_answers(answers)
        result = score(data["answers"])
        console.print(f"[bold]Risk tier {result.tier}[/] (risk share {result.score:.2f})")
        for reason in result.reasons:
            console.print(f"  - {reason}")
        if system is not None:
            row = _registry(db).add_assessment(system, data["answers"], assessor=actor)
            console.print(f"recorded as assessment {row['id']} of {system}")

    @app.command()
    def verify(
        report: Annotated[list[Path] | None, typer.Option(
            help="A signed report file to check as well (repeatable)")] = None,
        trusted_key: Annotated[list[Path] | None, typer.Option(
            help="Only accept signatures by these public keys (repeatable)")] = None,
        registry_check: Annotated[bool, typer.Option(
            "--registry/--no-registry", help="Check the registry and its ledger")] = True,
        expect_root: Annotated[str | None, typer.Option(
            help="SIZE:ROOT printed earlier by 'haia registry root': the ledger must extend it")
        ] = None,
        db: Url = None,
    ) -> None:
        """Check the ledger chain, every registry row against it, and signed reports.
        Exits 1 naming what was changed."""
        from haia.registry.signing import verify_file

        problems: list[str] = []
        if registry_check:
            reg = _registry(db)
            problems += reg.verify()
            if expect_root:
                published_size, sep, published_root = expect_root.partition(":")
                if not sep or not published_size.isdigit() or len(published_root) != 64:
                    raise HaiaError("--expect-root: expected SIZE:ROOT (64 hex digits)")
                problems += reg.check_root(int(published_size), published_root)
            size, digest = reg.root()
        for path in report or []:
            problems += verify_file(path, list(trusted_key) if trusted_key else None)
        for problem in problems:
            err.print(f"[red]TAMPERED[/] {problem}", highlight=False, soft_wrap=True)
        if problems:
            raise typer.Exit(1)
        if registry_check:
            console.print(f"ledger intact: {size} events, root {digest}", soft_wrap=True)
        for path in report or []:
            console.print(f"{path}: signature valid", soft_wrap=True, highlight=False)

    keys = typer.Typer(no_args_is_help=True, help="Ed25519 signing keys of auditors.")
    app.add_typer(keys, name="keys")

    @keys.command("create")
    def keys_create(name: str,
                    directory: Annotated[Path | None, typer.Option(
                        help="Key folder  [default: $HAIA_HOME/keys]")] = None,
                    passphrase_env: Annotated[str | None, typer.Option(
                        help="Encrypt the private key with the passphrase in this variable")
                    ] = None) -> None:
        """Create a signing key pair NAME.key (private, 0600) and NAME.pub."""
        from haia.registry.signing import default_key_dir, generate_key

        try:
            info = generate_key(name, directory or default_key_dir(),
                                _passphrase(passphrase_env))
        except ValueError as exc:
            raise HaiaError(str(exc)) from None
        except OSError as exc:
            from haia.atomic import describe_os_error

            raise HaiaError(f"cannot create key {name!r}: {describe_os_error(exc)}") from None
        console.print(f"key {info.name}: fingerprint {info.fingerprint}\n"
                      f"  private {info.key_path}\n  public  {info.pub_path}")

    @keys.command("list")
    def keys_list(directory: Annotated[Path | None, typer.Option()] = None) -> None:
        """List the keys in the key folder."""
        from haia.registry.signing import default_key_dir, fingerprint, load_public_key

        folder = directory or default_key_dir()
        pubs = sorted(folder.glob("*.pub")) if folder.is_dir() else []
        if not pubs:
            console.print(f"no keys in {folder}")
        for pub in pubs:
            from cryptography.hazmat.primitives import serialization

            try:
                raw = load_public_key(pub).public_bytes(serialization.Encoding.Raw,
                                                        serialization.PublicFormat.Raw)
            except (OSError, ValueError, TypeError) as exc:
                err.print(f"{pub.stem}  unreadable: {exc}", highlight=False, soft_wrap=True)
                continue
            console.print(f"{pub.stem}  {fingerprint(raw)}  {pub}")

    @app.command()
    def sign(file: Path,
             key: Annotated[str, typer.Option(help="Key name (in the key folder) or path")],
             signer: Annotated[str | None, typer.Option(help="Signer's name")] = None,
             passphrase_env: Annotated[str | None, typer.Option()] = None) -> None:
        """Sign a report file with an auditor's key; writes FILE.sig beside it."""
        path = sign_report(file, key, signer, passphrase_env)
        console.print(f"signed: {path}")


def _passphrase(env: str | None) -> bytes | None:
    if env is None:
        return None
    value = os.environ.get(env)
    if not value:
        raise HaiaError(f"environment variable {env} is not set")
    return value.encode()


def key_path(key: str) -> Path:
    """A key given by name (in the key folder) or by path."""
    from haia.registry.signing import default_key_dir

    candidate = Path(key)
    if candidate.suffix == ".key" or candidate.exists():
        return candidate
    return default_key_dir() / f"{key}.key"


def sign_report(file: Path, key: str, signer: str | None, passphrase_env: str | None) -> Path:
    """Sign ``file`` with ``key``; every failure is a :class:`HaiaError`."""
    from haia.registry.signing import sign_file

    path = key_path(key)
    if not file.is_file():
        raise HaiaError(f"{file}: no such file")
    if not path.is_file():
        raise HaiaError(f"no key {key!r} ({path}): create one with 'haia keys create NAME'")
    try:
        return sign_file(file, path, signer or path.stem, _passphrase(passphrase_env))
    except ValueError as exc:
        raise HaiaError(str(exc)) from None
    except OSError as exc:
        from haia.atomic import describe_os_error

        raise HaiaError(f"cannot sign {file}: {describe_os_error(exc)}") from None
