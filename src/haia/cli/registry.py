"""Commands of the registry, impact assessment and audit trail: ``haia registry``, ``haia assess``,
``haia verify``, ``haia keys`` and ``haia sign``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haia.cli.common import console, err
from haia.errors import HaiaError

As = Annotated[str | None, typer.Option("--as", help="The registered user acting")]
Key = Annotated[str | None, typer.Option(
    "--key", help="The acting user's signing key (name in the key folder or path)  "
                  "[default: $HAIA_HOME/keys/NAME.key]")]
Pass = Annotated[str | None, typer.Option(
    "--passphrase-env", help="Environment variable holding the key's passphrase")]
Url = Annotated[str | None, typer.Option(
    "--db", help="Registry database URL  [default: $HAIA_DATABASE_URL or $HAIA_HOME/registry.db]")]
Reason = Annotated[str | None, typer.Option(help="Why (required to reject, suspend, withdraw)")]


def _registry(url: str | None) -> Any:
    from haia.registry.service import Registry

    registry = Registry(url)
    if registry.migration_note:
        err.print(f"[yellow]note:[/] {registry.migration_note}", highlight=False, soft_wrap=True)
    return registry


def actor(name: str | None, key: str | None = None, passphrase_env: str | None = None) -> Any:
    """The authenticated actor ``name`` with their private key (None when no --as)."""
    from haia.registry.keys import load_actor

    return load_actor(name, key, passphrase_env)


def _date(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise HaiaError(f"{option} {value!r}: expected a date YYYY-MM-DD") from None


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
        why = f" — {event['reason']}" if event.get("reason") else ""
        console.print(f"  #{event['seq']} {event['at']} {event['kind']} by {event['actor']}{why}",
                      highlight=False)


def register(app: typer.Typer) -> None:
    """Add the registry, assessment and trail commands to ``app``."""
    registry = typer.Typer(no_args_is_help=True, help="The registry of AI systems, versions, "
                           "deployments, audits, decisions, incidents and feedback.")
    add = typer.Typer(no_args_is_help=True, help="Add a record (each one is ledgered).")
    registry.add_typer(add, name="add")
    policy = typer.Typer(no_args_is_help=True, help="The governance policy (versioned).")
    registry.add_typer(policy, name="policy")
    app.add_typer(registry, name="registry")

    @add.command("organisation")
    def add_organisation(name: str, kind: Annotated[str, typer.Option(
            help="developer | deployer | auditor | regulator | other")] = "other",
            country: Annotated[str | None, typer.Option()] = None,
            user: As = None, key: Key = None, passphrase_env: Pass = None,
            db: Url = None) -> None:
        """Register an organisation (admin)."""
        _show(_registry(db).add_organisation(name, kind=kind, country=country,
                                             actor=actor(user, key, passphrase_env)), False)

    @add.command("user")
    def add_user(name: str, role: Annotated[str, typer.Option(
            help="admin | auditor | developer | reviewer | stakeholder | public")],
            public_key: Annotated[str | None, typer.Option(
                help="The user's public key (.pub file from 'haia keys create')")] = None,
            org: Annotated[str | None, typer.Option(help="Organisation name or id")] = None,
            email: Annotated[str | None, typer.Option()] = None,
            category: Annotated[str | None, typer.Option(
                help="A stakeholder's verified category: patient | carer | public | clinician "
                     "| civil_society | other")] = None,
            user: As = None, key: Key = None, passphrase_env: Pass = None,
            db: Url = None) -> None:
        """Register a user with their public key (admin). The very first user is an admin who
        registers themself: 'haia registry add user NAME --role admin --as NAME'."""
        from haia.registry.actors import public_key_text

        _show(_registry(db).add_user(
            name, role, public_key=public_key_text(public_key) if public_key else None,
            organisation=org, email=email, category=category,
            actor=actor(user, key, passphrase_env)), False)

    @add.command("system")
    def add_system(name: str,
                   developer: Annotated[str, typer.Option(help="Developer organisation")],
                   intended_use: Annotated[str, typer.Option(help="What it is for")],
                   setting: Annotated[str, typer.Option(help="Clinical setting")],
                   users: Annotated[str, typer.Option(help="Intended users")],
                   modality: Annotated[list[str] | None, typer.Option(
                       help="Input modality (repeatable): text, image, data, audio")] = None,
                   provider: Annotated[str | None, typer.Option(help="Model provider")] = None,
                   user: As = None, key: Key = None, passphrase_env: Pass = None,
                   db: Url = None) -> None:
        """Register an AI system (a developer of that organisation)."""
        _show(_registry(db).add_system(
            name, developer=developer, intended_use=intended_use, clinical_setting=setting,
            intended_users=users, modalities=modality, model_provider=provider,
            actor=actor(user, key, passphrase_env)), False)

    @add.command("version")
    def add_version(system: str, version: str,
                    model_id: Annotated[str, typer.Option(
                        help="The model spec audits must use, e.g. openai:gpt-x@URL")],
                    weights: Annotated[str | None, typer.Option(
                        help="Weights hash or API version")] = None,
                    docs: Annotated[str | None, typer.Option(help="Documentation link")] = None,
                    user: As = None, key: Key = None, passphrase_env: Pass = None,
                    db: Url = None) -> None:
        """Register a version of a system (a developer of it)."""
        _show(_registry(db).add_version(system, version, model_id=model_id,
                                        weights_or_api_version=weights, documentation=docs,
                                        actor=actor(user, key, passphrase_env)), False)

    @add.command("deployment")
    def add_deployment(version_id: int, site: str,
                       deployer: Annotated[str | None, typer.Option(
                           help="Deploying organisation  [default: the actor's]")] = None,
                       start: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
                       users_per_month: Annotated[int, typer.Option()] = 0,
                       queries_per_month: Annotated[int, typer.Option()] = 0,
                       setting: Annotated[str | None, typer.Option(
                           help="Clinical setting at this site  [default: the system's]")] = None,
                       users: Annotated[str | None, typer.Option(
                           help="Who uses it here  [default: the system's]")] = None,
                       user: As = None, key: Key = None, passphrase_env: Pass = None,
                       db: Url = None) -> None:
        """Register where a version will be deployed, by which deployer, at what scale."""
        _show(_registry(db).add_deployment(
            version_id, site, deployer=deployer, start_date=_date(start, "--start"),
            users_per_month=users_per_month, queries_per_month=queries_per_month,
            setting=setting, intended_users=users, actor=actor(user, key, passphrase_env)),
            False)

    @add.command("incident")
    def add_incident(deployment_id: int,
                     severity: Annotated[str, typer.Option(help="low|medium|high|critical")],
                     description: Annotated[str, typer.Option()],
                     category: Annotated[str | None, typer.Option(
                         help="Without --as: who reports (patient, carer, public, clinician, "
                              "civil_society, other)")] = None,
                     serious: Annotated[bool, typer.Option(
                         "--serious", help="A serious incident (EU AI Act Art. 73)")] = False,
                     user: As = None, key: Key = None, passphrase_env: Pass = None,
                     db: Url = None) -> None:
        """Report an incident (anyone; without --as it is held for moderation). The text is
        de-identified before it is stored."""
        _show(_registry(db).report_incident(
            deployment_id, severity=severity, description=description, category=category,
            serious=serious, actor=actor(user, key, passphrase_env)), False)

    @add.command("feedback")
    def add_feedback(system: str,
                     stakeholder: Annotated[str, typer.Option(
                         help="patient | carer | public | clinician | civil_society | other, "
                              "or the author's role")],
                     text: Annotated[str, typer.Option()],
                     audit: Annotated[int | None, typer.Option(
                         help="On this audit of the system (id)")] = None,
                     finding: Annotated[str | None, typer.Option(
                         help="On this finding of the audit (its id)")] = None,
                     user: As = None, key: Key = None, passphrase_env: Pass = None,
                     db: Url = None) -> None:
        """Record stakeholder feedback on a system (anyone; anonymous feedback is held for
        moderation). The text is de-identified before it is stored."""
        _show(_registry(db).add_feedback(system, stakeholder=stakeholder, text=text,
                                         audit=audit, finding=finding,
                                         actor=actor(user, key, passphrase_env)), False)

    @registry.command("key")
    def register_key(name: str, public_key: Annotated[str, typer.Option(
            help="The user's public key (.pub file)")],
            user: As = None, key: Key = None, passphrase_env: Pass = None,
            db: Url = None) -> None:
        """Register or replace a user's public key (admin)."""
        from haia.registry.actors import public_key_text

        data = _registry(db).register_key(name, public_key_text(public_key),
                                          actor=actor(user, key, passphrase_env))
        console.print(f"{data['name']}: key {data['key_fingerprint']}")

    @policy.command("show")
    def policy_show(db: Url = None) -> None:
        """Print the active policy version and its settings."""
        number, settings = _registry(db).policy()
        console.print_json(json.dumps({"version": number, "settings": settings.as_dict()}))

    @policy.command("propose")
    def policy_propose(settings: Annotated[Path, typer.Option(
            help="YAML or JSON file of the settings to change")],
            reason: Annotated[str, typer.Option(help="Why the policy changes")],
            user: As = None, key: Key = None, passphrase_env: Pass = None,
            db: Url = None) -> None:
        """Propose a new policy version (admin); another admin activates it."""
        import yaml

        try:
            values = yaml.safe_load(settings.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise HaiaError(f"{settings}: cannot read the settings ({exc})") from None
        if not isinstance(values, dict):
            raise HaiaError(f"{settings}: expected a mapping of policy settings")
        data = _registry(db).propose_policy(values, reason=reason,
                                            actor=actor(user, key, passphrase_env))
        console.print(f"policy version {data['version']} proposed")

    @policy.command("activate")
    def policy_activate(version: int, user: As = None, key: Key = None,
                        passphrase_env: Pass = None, db: Url = None) -> None:
        """Activate a proposed policy version (an admin other than its proposer)."""
        data = _registry(db).activate_policy(version, actor=actor(user, key, passphrase_env))
        console.print(f"policy version {data['version']} active")

    @registry.command("list")
    def list_(table: Annotated[str, typer.Argument(
            help="organisations | users | systems | versions | deployments | audits | "
                 "assessments | decisions | policies | risk_acceptances | incidents | feedback")],
            as_json: Annotated[bool, typer.Option("--json")] = False,
            public: Annotated[bool, typer.Option(
                "--public", help="Leave out reports held for moderation or dismissed")] = False,
            db: Url = None) -> None:
        """List the records of one table."""
        rows = _registry(db).list(table, public=public)
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
    def move(deployment: int, action: Annotated[str, typer.Argument(
                 help="submit | review | approve | reject | suspend | withdraw")],
             reason: Reason = None, user: As = None, key: Key = None,
             passphrase_env: Pass = None, db: Url = None) -> None:
        """Move a deployment through the approval workflow (approve runs the gate)."""
        data = _registry(db).transition(deployment, action, reason=reason,
                                        actor=actor(user, key, passphrase_env))
        waiting = f" (awaiting {data['awaiting']})" if data.get("awaiting") else ""
        console.print(f"deployment {data['id']}: {data['status']}{waiting}")

    @registry.command("update-deployment")
    def update_deployment(deployment: int,
                          users_per_month: Annotated[int | None, typer.Option()] = None,
                          queries_per_month: Annotated[int | None, typer.Option()] = None,
                          version: Annotated[int | None, typer.Option(
                              help="Move the deployment to this version id")] = None,
                          user: As = None, key: Key = None, passphrase_env: Pass = None,
                          db: Url = None) -> None:
        """Change a deployment's scale or version (an approved one that crosses the at-scale
        threshold or changes version goes back under review)."""
        data = _registry(db).update_deployment(
            deployment, users_per_month=users_per_month, queries_per_month=queries_per_month,
            version_id=version, actor=actor(user, key, passphrase_env))
        console.print(f"deployment {data['id']}: {data['status']}")

    @registry.command("due")
    def due(reopen: Annotated[bool, typer.Option(
                "--reopen", help="Send them back under review (reviewer)")] = False,
            user: As = None, key: Key = None, passphrase_env: Pass = None,
            db: Url = None) -> None:
        """List approved deployments whose audits are older than the policy allows."""
        reg = _registry(db)
        items = reg.due()
        for item in items:
            console.print(f"deployment {item['deployment']}: {item['reason']}", highlight=False)
        if not items:
            console.print("no re-review due")
        if reopen and items:
            reopened = reg.reopen_due(actor=actor(user, key, passphrase_env))
            console.print(f"{len(reopened)} deployment(s) back under review")

    @registry.command("review-assessment")
    def review_assessment(assessment: int,
                          accept: Annotated[bool, typer.Option(
                              "--accept/--return", help="Accept, or return with --reason")],
                          reason: Reason = None, user: As = None, key: Key = None,
                          passphrase_env: Pass = None, db: Url = None) -> None:
        """Accept or return an assessment version (a reviewer other than its author)."""
        data = _registry(db).review_assessment(assessment, accept=accept, reason=reason,
                                               actor=actor(user, key, passphrase_env))
        console.print(f"assessment {data['id']}: {data['status']}")

    @registry.command("accept-risk")
    def accept_risk(deployment: int, audit: int,
                    finding: Annotated[list[str], typer.Argument(help="Finding id(s)")],
                    reason: Annotated[str, typer.Option(help="Why the risk is accepted")],
                    expires: Annotated[str, typer.Option(help="Until when (YYYY-MM-DD)")],
                    user: As = None, key: Key = None, passphrase_env: Pass = None,
                    db: Url = None) -> None:
        """Record your acceptance of blocking finding(s) of an audit for a deployment; the gate
        needs two reviewers' acceptances of each."""
        reg, who, until = _registry(db), actor(user, key, passphrase_env), _date(expires,
                                                                              "--expires")
        for one in finding:
            data = reg.accept_risk(deployment, audit, one, reason=reason,
                                   expires=until, actor=who)  # type: ignore[arg-type]
            console.print(f"risk acceptance {data['id']} of {one} until {data['expires']}",
                          highlight=False)

    @registry.command("incident")
    def incident(ident: int,
                 status: Annotated[str | None, typer.Option(
                     help="triaged | investigating | resolved")] = None,
                 serious: Annotated[bool | None, typer.Option(
                     "--serious/--not-serious", help="Flag as a serious incident")] = None,
                 root_cause: Annotated[str | None, typer.Option()] = None,
                 corrective_action: Annotated[str | None, typer.Option()] = None,
                 notified_on: Annotated[str | None, typer.Option(
                     help="Date the authority was notified (YYYY-MM-DD)")] = None,
                 authority: Annotated[str | None, typer.Option(
                     help="The authority notified")] = None,
                 user: As = None, key: Key = None, passphrase_env: Pass = None,
                 db: Url = None) -> None:
        """Move an incident along its lifecycle or record its notification."""
        data = _registry(db).update_incident(
            ident, status=status, serious=serious, root_cause=root_cause,
            corrective_action=corrective_action, notified_on=_date(notified_on, "--notified-on"),
            authority=authority, actor=actor(user, key, passphrase_env))
        console.print(f"incident {data['id']}: {data['status']}")

    @registry.command("moderate")
    def moderate(table: Annotated[str, typer.Argument(help="incidents | feedback")], ident: int,
                 publish: Annotated[bool, typer.Option("--publish/--dismiss")],
                 reason: Reason = None, user: As = None, key: Key = None,
                 passphrase_env: Pass = None, db: Url = None) -> None:
        """Publish or dismiss a held (anonymous) incident or feedback (reviewer)."""
        data = _registry(db).moderate(table, ident, publish=publish, reason=reason,
                                      actor=actor(user, key, passphrase_env))
        console.print(f"{table} {data['id']}: {data['status']}")

    @registry.command("export")
    def export(target: Annotated[str, typer.Argument(
                   help="version:ID or deployment:ID (a bare number is a deployment)")],
               out: Annotated[Path, typer.Option(help="Folder to write the dossier to")],
               reports: Annotated[list[Path] | None, typer.Option(
                   help="Folder holding moved report folders (searched by content hash)")
               ] = None,
               user: As = None, key: Key = None, passphrase_env: Pass = None,
               db: Url = None) -> None:
        """Write a signed, self-contained dossier that 'haia verify --bundle' checks offline."""
        from haia.registry.dossier import export as write_dossier

        kind, _, ident = target.rpartition(":")
        if not ident.isdigit() or kind not in {"", "version", "deployment"}:
            raise HaiaError(f"{target!r}: expected version:ID or deployment:ID")
        files = write_dossier(_registry(db), kind or "deployment", int(ident), out,
                              actor=actor(user, key, passphrase_env),
                              report_dirs=list(reports or []))
        console.print(f"dossier written to {out} ({files} files)")

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
        deployment: Annotated[int | None, typer.Argument(
            help="Registered deployment to record the assessment for (omit to only score)")
        ] = None,
        answers: Annotated[Path | None, typer.Option(help="Answers file (YAML)")] = None,
        template: Annotated[bool, typer.Option(
            "--template", help="Print a blank answers file with every question")] = False,
        user: As = None, key: Key = None, passphrase_env: Pass = None, db: Url = None,
    ) -> None:
        """Score an impact assessment to a risk tier (I-IV) and record it as the next version
        of a deployment's assessment (its deployer; a reviewer then accepts it)."""
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
        if deployment is not None:
            row = _registry(db).add_assessment(
                deployment, data["answers"], system_name=data.get("system"),
                actor=actor(user, key, passphrase_env))
            console.print(f"recorded as assessment {row['id']} (version {row['number']}) of "
                          f"deployment {deployment}, awaiting review")
            for problem in row["contradictions"] or []:
                err.print(f"[red]contradiction:[/] {problem}", highlight=False, soft_wrap=True)
