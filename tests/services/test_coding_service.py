"""Coding stored visits with the clinic's own catalog and payer settings."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from infusion_desk.billing.coding import INITIAL_CODES
from infusion_desk.models import Payer, Visit
from infusion_desk.models.enums import PayerType, Role, VisitStatus
from infusion_desk.services.app import Services
from infusion_desk.services.coding import CodingService
from infusion_desk.services.demo import generate_demo
from tests.conftest import make_actor

TODAY = date(2026, 11, 26)


def test_every_documented_demo_visit_codes_with_one_initial_and_explanations(services: Services) -> None:
    generate_demo(services.db, patients=30, months=2, seed=11, today=TODAY)
    biller = services.auth.sign_in("biller", "demo")
    coding = CodingService(services.db)
    with services.db.session() as session:
        visit_ids = (
            session.execute(
                sa.select(Visit.id).where(Visit.status == VisitStatus.COMPLETED).order_by(Visit.id)
            )
            .scalars()
            .all()
        )
    assert visit_ids
    for visit_id in visit_ids:
        result = coding.code(biller, visit_id)
        codes = [line.code for line in result.lines]
        initial = sum(code in INITIAL_CODES for code in codes)
        # An injection-only visit (denosumab SC) bills 96372/96401 and no initial infusion or push.
        assert initial == 1 or (initial == 0 and codes[0] in {"96372", "96401", "96402"}), (
            visit_id, codes, result.warnings,
        )
        assert codes[0] in INITIAL_CODES | {"96372", "96401", "96402"}, codes
        assert any(code[0] in "JQ" for code in codes)
        assert all(line.explanation.startswith(line.code) for line in result.lines)


def test_payer_settings_stored_in_the_database_change_the_codes(services: Services) -> None:
    generate_demo(services.db, patients=60, months=1, seed=5, today=TODAY)
    biller = services.auth.sign_in("biller", "demo")
    coding = CodingService(services.db)
    with services.db.session() as session:
        # A commercial patient's infliximab visit (complex biologic).
        row = session.execute(
            sa.text(
                "SELECT v.id, p.id FROM visit v JOIN insurance_policy ip ON ip.patient_id = v.patient_id "
                "AND ip.rank = 'primary' JOIN payer p ON p.id = ip.payer_id "
                "JOIN physician_order o ON o.id = v.order_id JOIN drug d ON d.id = o.drug_id "
                "WHERE v.status = 'completed' AND d.admin_class = 'complex_biologic' "
                "AND p.payer_type = 'commercial' ORDER BY v.id LIMIT 1"
            )
        ).one()
    visit_id, payer_id = row
    before = {line.code for line in coding.code(biller, visit_id).lines}
    assert "96413" in before
    with services.db.session() as session:
        payer = session.get(Payer, payer_id)
        assert payer is not None and payer.payer_type is PayerType.COMMERCIAL
        payer.coding_settings = {"complex_biologic_admin": "therapeutic"}
    after = {line.code for line in coding.code(biller, visit_id).lines}
    assert "96365" in after and "96413" not in after


def test_front_desk_cannot_code(services: Services) -> None:
    import pytest

    from infusion_desk.services.errors import PermissionDenied

    desk = make_actor(services, Role.FRONT_DESK)
    with pytest.raises(PermissionDenied):
        CodingService(services.db).code(desk, 1)


def test_coder_reviews_overrides_with_a_reason_and_marks_coded(services: Services) -> None:
    import pytest

    from infusion_desk.services.coding import CoderReviewService
    from infusion_desk.services.errors import ValidationFailed

    generate_demo(services.db, patients=10, months=1, seed=3, today=TODAY)
    biller = services.auth.sign_in("biller", "demo")
    review = CoderReviewService(services.db)
    with services.db.session() as session:
        visit_id = session.execute(
            sa.select(Visit.id).where(Visit.status == VisitStatus.COMPLETED).order_by(Visit.id).limit(1)
        ).scalar_one()
    proposed = review.review(biller, visit_id)
    assert proposed.lines and not proposed.coded
    first = proposed.lines[0]
    assert first.code in INITIAL_CODES and first.explanation.startswith(first.code)

    with pytest.raises(ValidationFailed, match="reason"):
        review.override(biller, visit_id, first.sequence, units="2", reason="  ")
    with pytest.raises(ValidationFailed) as caught:
        review.override(biller, visit_id, first.sequence, code="9641", units="1.5", reason="typo")
    assert {f.subject for f in caught.value.findings} == {"code", "units"}

    review.override(biller, visit_id, first.sequence, modifiers=("XU",), reason="Second site documented")
    after = review.review(biller, visit_id)
    line = after.lines[0]
    assert line.modifiers == ("XU",) and line.overridden and line.override_reason == "Second site documented"
    # The override survives a later review: the engine does not overwrite a coder's work.
    assert review.review(biller, visit_id).lines[0].modifiers == ("XU",)
    (entry,) = review.history(biller, visit_id)
    assert entry.before["modifiers"] == [] and entry.after["modifiers"] == ["XU"]

    review.mark_coded(biller, visit_id)
    assert review.review(biller, visit_id).coded
    with pytest.raises(ValidationFailed, match="marked coded"):
        review.override(biller, visit_id, first.sequence, units="2", reason="late change")
    assert [v.id for v in services.visits.awaiting_coding(biller)].count(visit_id) == 0
