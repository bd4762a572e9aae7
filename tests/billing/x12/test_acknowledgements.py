"""TA1, 999 and 277CA: every public sample read with the values a person reads in it, and our own fictional files."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.x12.acknowledgements import (
    ENTITIES,
    AcknowledgementFile,
    ClaimAck,
    claim_status,
    claim_status_categories,
    claim_status_codes,
    read_acknowledgements,
)
from infusion_desk.billing.x12.syntax import X12Error

SAMPLES = Path("/work/shared/x12-samples")
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"the shared public X12 samples ({SAMPLES}) are not on this machine"
)


def sample(kind: str, name: str) -> str:
    raw = (SAMPLES / kind / name).read_bytes()
    if name.startswith("stupidedi2019__"):
        # SOURCES.md "Annotated files": prose (and a validator's error list) before the first ISA
        # line; one header has a Windows-1252 apostrophe, so it is cut off before decoding.
        found = re.search(rb"^ISA", raw, re.MULTILINE)
        assert found is not None
        raw = raw[found.start() :]
    return raw.decode("utf-8-sig")


def claims_by_number(answer: AcknowledgementFile) -> dict[str, ClaimAck]:
    return {c.claim_number: c for c in answer.claim_acks}


# ------------------------------------------------------------------------------------------------
# Fictional files: one builder, the counts always right.

ISA = "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     *261122*0800*^*00501*{:09d}*0*T*:~"


def st(code: str, control: str, version: str, body: list[str]) -> str:
    segments = [f"ST*{code}*{control}*{version}", *body]
    return "~".join([*segments, f"SE*{len(segments) + 1}*{control}"]) + "~"


def gs(functional_id: str, control: int, version: str, *sets: str) -> str:
    return (
        f"GS*{functional_id}*CLEARINGHOUSE*DEMOCLINIC*20261122*0800*{control}*X*{version}~"
        + "".join(sets)
        + f"GE*{len(sets)}*{control}~"
    )


def interchange(control: int, *groups: str, ta1: str = "") -> str:
    return ISA.format(control) + ta1 + "".join(groups) + f"IEA*{len(groups)}*{control:09d}~"


def ack_999(control: str, group: int, *sets: list[str], status: str = "A", accepted: int | None = None) -> str:
    """A 999 answering our group ``group``; each item of ``sets`` is an AK2 … IK5 list of segments."""
    body = [f"AK1*HC*{group}*005010X222A1"]
    for item in sets:
        body += item
    count = len(sets)
    body.append(f"AK9*{status}*{count}*{count}*{count if accepted is None else accepted}")
    return st("999", control, "005010X231A1", body)


ACCEPTED_SET = ["AK2*837*0001*005010X222A1", "IK5*A"]

PAYER_AND_SUBMITTER = [
    "BHT*0085*08*B17*20261122*0800*TH",
    "HL*1**20*1",
    "NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01",
    "TRN*1*T1",
    "DTP*050*D8*20261122",
    "DTP*009*D8*20261122",
    "HL*2*1*21*1",
    "NM1*41*2*DEMO INFUSION CLINIC*****46*DEMO",
    "TRN*2*B17",
]


def ack_277(control: str, claims: list[str], *, submitter: str = "STC*A1:19:PR*20261122*WQ*3250") -> str:
    body = [
        *PAYER_AND_SUBMITTER,
        submitter,
        "HL*3*2*19*1",
        "NM1*85*2*DEMO INFUSION CLINIC*****XX*1245319599",
        "TRN*1*P1",
        *claims,
    ]
    return st("277", control, "005010X214", body)


TWO_CLAIMS = [
    "HL*4*3*PT",
    "NM1*QC*1*EXAMPLE*TESTY****MI*XYZ123456",
    "TRN*2*C2611001",
    "STC*A2:20*20261122*WQ*1100",
    "REF*1K*FHP2611220001",
    "REF*D9*CH-7781",
    "DTP*472*D8*20261103",
    "HL*5*3*PT",
    "NM1*QC*1*SAMPLE*PAT****MI*XYZ987654",
    "TRN*2*C2611002",
    "STC*A7:21*20261122*U*2150",
    "DTP*472*RD8*20261104-20261105",
    "SVC*HC:96413*450*****1",
    "STC*A2:20*20261122*WQ",
    "REF*FJ*C2611002-1",
    "DTP*472*D8*20261104",
    "SVC*HC:J1745:JZ*1700*****50",
    "STC*A7:218*20261122*U",
    "REF*FJ*C2611002-2",
    "DTP*472*D8*20261104",
]


# ------------------------------------------------------------------------------------------------
# The public 999 samples (/work/shared/x12-samples/999). Expected values as read in each file.

SAMPLES_999: dict[str, object] = {
    # AK1*HC*28*005010X223A2, AK2*837*0028, IK5*A, AK9*A*1*1*1
    "herophilus__999_Sample_Accepted.txt": [("HC", 28, "A", (1, 1, 1), [("837", "0028", "A", True)])],
    # same group; IK3*NM*17**1 (unrecognised segment "NM"), IK5*R*5, AK9*R*1*1*0
    "herophilus__999_Sample_Rejected.txt": [("HC", 28, "R", (1, 1, 0), [("837", "0028", "R", False)])],
    # AK1*BE*146 (an 834 group), AK2*834*146001, IK5*A, AK9*A*1*1*1
    "pyx12__834_ls_le_ls_5010.999.txt": [("BE", 146, "A", (1, 1, 1), [("834", "146001", "A", True)])],
    # two GS groups of two 999s each, every one AK1*BE*13360001 … AK9*A*1*1*1
    "pyx12__834_lui_id_5010.999.txt": [("BE", 13360001, "A", (1, 1, 1), [("834", "0001", "A", True)])] * 4,
    # SOURCES.md: "ISA not padded" — a receiver must refuse a non-fixed-width ISA
    "stupidedi2019__X231-fail-1.edi": "the ISA is not fixed width",
    "stupidedi2019__X231A1-pass-1.edi": "the ISA is not fixed width",
    # TR3 example: AK1*HC*17456, sets 0001 A, 0002 R, 0003 R, AK9*P*3*3*1
    "stupidedi__X231A1-response-to-functional-group-containing-3-837s.edi": [
        ("HC", 17456, "P", (3, 3, 1), [("837", "0001", "A", True), ("837", "0002", "R", False), ("837", "0003", "R", False)])
    ],
}


@needs_samples
def test_every_999_sample_is_in_the_table() -> None:
    assert sorted(p.name for p in (SAMPLES / "999").iterdir()) == sorted(SAMPLES_999)


@needs_samples
@pytest.mark.parametrize("name", sorted(SAMPLES_999))
def test_999_samples(name: str) -> None:
    expected = SAMPLES_999[name]
    if isinstance(expected, str):
        with pytest.raises(X12Error, match=expected):
            read_acknowledgements(sample("999", name))
        return
    answer = read_acknowledgements(sample("999", name))
    assert answer.claim_acks == () and answer.interchange_acks == () and answer.problems == ()
    got = [
        (
            g.functional_id,
            g.group_control_number,
            g.status,
            (g.sets_included, g.sets_received, g.sets_accepted),
            [(t.transaction_code, t.control_number, t.status, t.accepted) for t in g.transactions],
        )
        for g in answer.group_acks
    ]
    assert got == expected


@needs_samples
def test_999_rejection_names_the_segment() -> None:
    (group,) = read_acknowledgements(sample("999", "herophilus__999_Sample_Rejected.txt")).group_acks
    assert group.accepted is False and group.version == "005010X223A2"
    (transaction,) = group.transactions
    (error,) = transaction.errors
    # IK3*NM*17**1: segment "NM" at position 17, no loop, code 1; IK5*R*5
    assert (error.segment_id, error.position, error.loop, error.code, error.claim_number) == ("NM", 17, None, "1", None)
    assert transaction.error_codes == ("5",)
    assert transaction.message == "Rejected: segment NM at position 17: unrecognized segment ID."


@needs_samples
def test_999_tr3_example_maps_errors_to_claims() -> None:
    (group,) = read_acknowledgements(
        sample("999", "stupidedi__X231A1-response-to-functional-group-containing-3-837s.edi")
    ).group_acks
    assert group.accepted is True  # AK9*P: partially accepted, set 0001 got through
    _, second, third = group.transactions
    # IK3*CLM*22**8, CTX*CLM01:123456789, IK4*2*782*1
    (clm,) = second.errors
    assert (clm.segment_id, clm.position, clm.code, clm.claim_number) == ("CLM", 22, "8", "123456789")
    (element,) = clm.elements
    assert (element.position, element.reference, element.code, element.bad_value) == ("2", "782", "1", None)
    assert second.message == (
        "Rejected: segment CLM at position 22 of claim 123456789: segment has data element errors — "
        "CLM02 (data element 782): required data element missing."
    )
    # IK3*REF*57**3, CTX*SITUATIONAL TRIGGER*CLM*43**5:3, CTX*CLM01:987654321
    (ref,) = third.errors
    assert (ref.segment_id, ref.position, ref.code, ref.claim_number) == ("REF", 57, "3", "987654321")
    assert "required segment missing" in ref.message and "CLM05-3 at position 43" in ref.message


# ------------------------------------------------------------------------------------------------
# The public 277CA samples (/work/shared/x12-samples/277ca).
# Each claim: (TRN02, accepted, [(category, code, entity)], REF*1K, STC04 charge, DTP*472 from, to).

SAMPLES_277: dict[str, object] = {
    # one claim, STC*A2:20 WQ 125, REF*1K; DTP*472 is eMedNY's 10010101 "no date" placeholder
    "herophilus__277CA_Sample_Accepted.txt": [
        ("5781", True, [("A2", "20", None)], "1107000000014420", "125.00", None, None)
    ],
    # one claim, STC*A7|562|85 (the billing provider's NPI), action WQ but category A7 rejects
    "herophilus__277CA_Sample_Rejected.txt": [
        ("3920394930203", False, [("A7", "562", "85")], "1107000000001120", "199.14", date(2009, 3, 11), date(2009, 3, 11))
    ],
    # SOURCES.md: indented (leading spaces before each segment), CRLF; x12.md: pyx12 refuses indentation too
    "oopfactory__277_Deidentified_from_nth.txt": "'  GS' is not a segment identifier",
    # indented and cut off after HL*2 (no SE/GE/IEA)
    "oopfactory__FromBogeyone.txt": "'  GS' is not a segment identifier",
    # SOURCES.md: scrambled ISA (ISA12 343434 is six characters)
    "oopfactory__FromLatitude81uk.txt": "the ISA is not fixed width",
    # TR3 scenario 1 as published: dates in DTP*232 (not an X214 qualifier) are not read
    "stupidedi2019__X214-fail-1.edi": [
        ("DOE01428", True, [("A0", "16", "PR")], "22029500123407X", "200.00", None, None),
        ("DOE0221", False, [("A3", "21", "82")], None, "500.00", None, None),
        ("VEST0303", False, [("A3", "401", None)], None, "300.00", None, None),
    ],
    # scenario 2: the whole file rejected at the submitter level, no claims listed
    "stupidedi2019__X214-fail-2.edi": [],
    "stupidedi2019__X214-pass-2.edi": [],
    # scenario 3 as published (DTP*232): five claims, two rejected
    "stupidedi2019__X214-fail-3.edi": [
        ("PATIENT22222", True, [("A2", "20", "PR")], "220216359803X", "100.00", None, None),
        ("PATIENT33333", False, [("A3", "187", "PR")], None, "65.00", None, None),
        ("JONES44444", False, [("A3", "21", "77")], None, "100.00", None, None),
        ("JOHNSON55555", True, [("A2", "20", "PR")], "220216359806X", "50.50", None, None),
        ("MILLS66666", True, [("A2", "20", None)], "220216359807X", "50.00", None, None),
    ],
    # scenario 3 corrected: the same verdicts with DTP*472 dates
    "stupidedi2019__X214-pass-3.edi": [
        ("PATIENT22222", True, [("A2", "20", "PR")], "220216359803X", "100.00", date(2006, 2, 14), date(2006, 2, 14)),
        ("PATIENT33333", False, [("A3", "187", "PR")], None, "65.00", date(2006, 2, 14), date(2006, 2, 14)),
        ("JONES44444", False, [("A3", "21", "77")], None, "100.00", date(2006, 2, 11), date(2006, 2, 11)),
        ("JOHNSON55555", True, [("A2", "20", "PR")], "220216359806X", "50.50", date(2006, 2, 10), date(2006, 2, 10)),
        ("MILLS66666", True, [("A2", "20", None)], "220216359807X", "50.00", date(2006, 2, 5), date(2006, 2, 5)),
    ],
    # scenario 4 as published: Dr. King's five claims; Dr. Reed's three are rejected at the provider level
    "stupidedi2019__X214-fail-4.edi": [
        ("PATIENT22222", True, [("A2", "20", "PR")], "220216359803X", "55.00", None, None),
        ("PATIENT33333", False, [("A3", "187", "PR")], None, "50.00", None, None),
        ("JONES44444", False, [("A3", "116", None)], None, "100.00", None, None),
        ("JOHNSON55555", True, [("A2", "20", "PR")], "220216359806X", "50.00", None, None),
        ("MILLS66666", True, [("A2", "20", "PR")], "220216359807X", "50.00", None, None),
    ],
    "stupidedi2019__X214-pass-4.edi": [
        ("PATIENT22222", True, [("A2", "20", "PR")], "220216359803X", "55.00", date(2006, 3, 14), date(2006, 3, 14)),
        ("PATIENT33333", False, [("A3", "187", "PR")], None, "50.00", date(2006, 3, 11), date(2006, 3, 11)),
        ("JONES44444", False, [("A3", "116", None)], None, "100.00", date(2006, 3, 11), date(2006, 3, 11)),
        ("JOHNSON55555", True, [("A2", "20", "PR")], "220216359806X", "50.00", date(2006, 3, 10), date(2006, 3, 10)),
        ("MILLS66666", True, [("A2", "20", "PR")], "220216359807X", "50.00", date(2006, 3, 5), date(2006, 3, 5)),
    ],
    # x12.md §6.2: "SE count off in pass-1" — SE*39 for a 40-segment set
    "stupidedi2019__X214-pass-1.edi": "SE01 says 39 segments; set 0001 has 40",
}


@needs_samples
def test_every_277ca_sample_is_in_the_table() -> None:
    assert sorted(p.name for p in (SAMPLES / "277ca").iterdir()) == sorted(SAMPLES_277)


@needs_samples
@pytest.mark.parametrize("name", sorted(SAMPLES_277))
def test_277ca_samples(name: str) -> None:
    expected = SAMPLES_277[name]
    if isinstance(expected, str):
        with pytest.raises(X12Error, match=re.escape(expected)):
            read_acknowledgements(sample("277ca", name))
        return
    answer = read_acknowledgements(sample("277ca", name))
    assert answer.group_acks == () and answer.problems == ()
    got = [
        (
            c.claim_number,
            c.accepted,
            [(s.category, s.code, s.entity) for s in c.statuses],
            c.payer_claim_control_number,
            None if c.charge is None else str(c.charge),
            c.service_from,
            c.service_to,
        )
        for c in answer.claim_acks
    ]
    assert got == expected


@needs_samples
def test_277ca_rejected_sample_tells_the_biller_what_to_fix() -> None:
    (claim,) = read_acknowledgements(sample("277ca", "herophilus__277CA_Sample_Rejected.txt")).claim_acks
    assert claim.message == (
        "Rejected (A7: invalid information): 562 Entity's National Provider Identifier (NPI) — billing provider"
    )
    assert claim.statuses[0].message == (
        "Rejected for invalid information: Entity's National Provider Identifier (NPI) — billing provider"
    )
    assert claim.patient_name == "CLILNAME, CLIFNAME"


@needs_samples
def test_277ca_line_level_rejection_in_the_tr3_example() -> None:
    claims = claims_by_number(read_acknowledgements(sample("277ca", "stupidedi2019__X214-fail-1.edi")))
    # SVC*HC:22305:22*350*****1, STC*A3:122**U*******A3:153:82:65, REF*FJ*11
    (line,) = claims["DOE0221"].line_statuses
    assert (line.procedure, line.modifiers, line.charge, line.units) == ("22305", ("22",), Decimal("350.00"), Decimal(1))
    assert line.line_control_number == "11" and line.accepted is False
    assert [(s.category, s.code, s.entity) for s in line.statuses] == [("A3", "122", None), ("A3", "153", "82")]
    # 122 is flagged "This Status Code is not valid" in the file's own header: named, not crashed on
    assert "status code 122 (not in Infusion Desk's table)" in claims["DOE0221"].message
    assert "line 11 (22305-22)" in claims["DOE0221"].message


@needs_samples
def test_277ca_whole_file_and_provider_rejections_come_back_as_batch_acks() -> None:
    # scenario 2: STC*A3:24:41 U 800 at 2200B, QTY*AA*3, AMT*YY*800; TRN*2 is the 837's BHT03
    (batch,) = read_acknowledgements(sample("277ca", "stupidedi2019__X214-pass-2.edi")).batch_acks
    assert (batch.level, batch.trace, batch.accepted) == ("submitter", "20020131052389", False)
    assert (batch.claims_rejected, batch.amount_rejected) == (3, Decimal("800.00"))
    assert batch.message.startswith("Rejected (A3: returned as unprocessable): 24 Entity not approved as an electronic submitter")
    # scenario 4: Dr. Reed's 2200C STC*A3:25:85 U 150, QTY*QC*3
    answer = read_acknowledgements(sample("277ca", "stupidedi2019__X214-pass-4.edi"))
    reed = next(b for b in answer.batch_acks if b.name == "REED, I")
    assert (reed.level, reed.identifier, reed.accepted, reed.claims_rejected) == ("billing provider", "1567012343", False, 3)
    assert {c.billing_provider_npi for c in answer.claim_acks} == {"1232343560"}


# ------------------------------------------------------------------------------------------------
# Fictional files.


def test_ta1_only_file_rejects_our_interchange() -> None:
    text = interchange(77, ta1="TA1*000000123*261122*0800*R*025~")
    answer = read_acknowledgements(text)
    (ta1,) = answer.interchange_acks
    assert (ta1.control_number, ta1.accepted, ta1.note_code) == (123, False, "025")
    assert ta1.message == "Duplicate interchange control number"
    assert answer.group_acks == () and answer.claim_acks == () and answer.problems == ()


def test_ta1_and_999_together() -> None:
    text = interchange(78, gs("FA", 78, "005010X231A1", ack_999("0001", 17, ACCEPTED_SET)), ta1="TA1*000000017*261122*0800*A*000~")
    answer = read_acknowledgements(text)
    (ta1,) = answer.interchange_acks
    assert (ta1.control_number, ta1.accepted, ta1.message) == (17, True, "No error")
    (group,) = answer.group_acks
    assert (group.group_control_number, group.accepted, group.transactions[0].accepted) == (17, True, True)


def test_ta1_accepted_with_errors_counts_as_accepted_and_says_why() -> None:
    (ta1,) = read_acknowledgements(interchange(79, ta1="TA1*000000018*261122*0800*E*020~")).interchange_acks
    assert ta1.accepted is True and ta1.message == "Invalid test indicator value"


def test_unknown_ta1_note_is_named_not_failed() -> None:
    (ta1,) = read_acknowledgements(interchange(80, ta1="TA1*000000018*261122*0800*R*099~")).interchange_acks
    assert ta1.message == "TA1 note code 099 (not in Infusion Desk's table)"


def test_ta1_with_a_verdict_that_is_not_a_r_or_e_is_malformed() -> None:
    with pytest.raises(X12Error, match="TA104 'Q' is not A, E or R"):
        read_acknowledgements(interchange(81, ta1="TA1*000000018*261122*0800*Q*000~"))


def test_999_one_set_accepted_one_rejected_with_the_claim_named() -> None:
    rejected = [
        "AK2*837*0002*005010X222A1",
        "IK3*NM1*12*2010BA*8",
        "CTX*CLM01:C2611002",
        "IK4*9*67*7*XYZ123",
        "IK5*R*5",
    ]
    text = interchange(82, gs("FA", 82, "005010X231A1", ack_999("0001", 17, ACCEPTED_SET, rejected, status="P", accepted=1)))
    (group,) = read_acknowledgements(text).group_acks
    ok, bad = group.transactions
    assert ok.accepted and ok.message == "Accepted."
    assert (bad.control_number, bad.accepted, bad.status) == ("0002", False, "R")
    (error,) = bad.errors
    assert (error.segment_id, error.loop, error.claim_number) == ("NM1", "2010BA", "C2611002")
    assert error.elements[0].bad_value == "XYZ123"
    assert bad.message == (
        "Rejected: segment NM1 at position 12 in loop 2010BA of claim C2611002: segment has data element errors "
        "— NM109 (data element 67): invalid code value (sent 'XYZ123')."
    )
    assert group.message == "Partially accepted: 1 of 2 transaction set(s) accepted."


def test_999_rejected_group_without_set_responses_gives_the_group_errors() -> None:
    body = st("999", "0001", "005010X231A1", ["AK1*HC*17*005010X222A1", "AK9*R*1*0*0*4"])
    (group,) = read_acknowledgements(interchange(83, gs("FA", 83, "005010X231A1", body))).group_acks
    assert group.accepted is False and group.transactions == () and group.error_codes == ("4",)
    assert "group control number in the functional group header and trailer do not agree" in group.message


def test_277ca_one_claim_accepted_one_rejected_with_line_statuses() -> None:
    answer = read_acknowledgements(interchange(84, gs("HN", 84, "005010X214", ack_277("0001", TWO_CLAIMS))))
    good, bad = answer.claim_acks
    assert (good.claim_number, good.accepted, good.payer_claim_control_number, good.clearinghouse_trace) == (
        "C2611001", True, "FHP2611220001", "CH-7781"
    )
    assert (good.charge, good.service_from, good.service_to) == (Decimal("1100.00"), date(2026, 11, 3), date(2026, 11, 3))
    assert good.line_statuses == ()
    assert (bad.claim_number, bad.accepted, bad.charge) == ("C2611002", False, Decimal("2150.00"))
    assert (bad.service_from, bad.service_to) == (date(2026, 11, 4), date(2026, 11, 5))
    admin, drug = bad.line_statuses
    assert (admin.line_control_number, admin.procedure, admin.accepted) == ("C2611002-1", "96413", True)
    assert (drug.line_control_number, drug.procedure, drug.modifiers, drug.accepted) == ("C2611002-2", "J1745", ("JZ",), False)
    assert (drug.charge, drug.units, drug.service_from) == (Decimal("1700.00"), Decimal(50), date(2026, 11, 4))
    assert bad.message == (
        "Rejected (A7: invalid information): 21 Missing or invalid information; "
        "line C2611002-2 (J1745-JZ): Rejected (A7: invalid information): 218 NDC number"
    )
    (submitter,) = answer.batch_acks
    assert (submitter.trace, submitter.accepted) == ("B17", True)


def test_several_sets_and_interchanges_in_one_file() -> None:
    first = interchange(
        85,
        gs("FA", 85, "005010X231A1", ack_999("0001", 17, ACCEPTED_SET), ack_999("0002", 18, ACCEPTED_SET)),
        gs("HN", 86, "005010X214", ack_277("0001", TWO_CLAIMS[:7]), ack_277("0002", TWO_CLAIMS[7:12])),
    )
    second = interchange(87, ta1="TA1*000000019*261122*0800*R*024~")
    answer = read_acknowledgements(first + "\n" + second)
    assert [g.group_control_number for g in answer.group_acks] == [17, 18]
    assert [(c.claim_number, c.accepted) for c in answer.claim_acks] == [("C2611001", True), ("C2611002", False)]
    assert [a.control_number for a in answer.interchange_acks] == [19]
    assert answer.problems == ()


def test_an_835_in_the_file_is_reported_and_the_rest_read() -> None:
    remittance = st("835", "0001", "005010X221A1", ["BPR*H*0*C*NON************20261122", "TRN*1*EFT1*1999999999"])
    text = interchange(
        88,
        gs("HP", 88, "005010X221A1", remittance),
        gs("FA", 89, "005010X231A1", ack_999("0001", 17, ACCEPTED_SET)),
    )
    answer = read_acknowledgements(text)
    assert answer.problems == (
        "transaction set 0001 (segment 3) is a remittance advice (835), not an acknowledgement; it was skipped.",
    )
    assert len(answer.group_acks) == 1


def test_a_claim_status_277_that_is_not_a_277ca_is_reported() -> None:
    status = st("277", "0001", "005010X212", ["BHT*0010*08*R1*20261122*0800*DG"])
    answer = read_acknowledgements(interchange(90, gs("HN", 90, "005010X212", status)))
    assert answer.claim_acks == ()
    assert answer.problems == (
        "transaction set 0001 (segment 3) is a claim status response (277, 005010X212), not a claim "
        "acknowledgement (005010X214); it was skipped.",
    )


def test_crlf_line_endings_read_the_same() -> None:
    text = interchange(91, gs("HN", 91, "005010X214", ack_277("0001", TWO_CLAIMS)))
    assert read_acknowledgements(text.replace("~", "~\r\n")) == read_acknowledgements(text)


def test_truncated_file_is_refused_with_a_clear_message() -> None:
    text = interchange(92, gs("HN", 92, "005010X214", ack_277("0001", TWO_CLAIMS)))
    with pytest.raises(X12Error, match="truncated"):
        read_acknowledgements(text[: text.index("TRN*2*C2611002") + 8])


def test_999_set_without_its_verdict_is_malformed() -> None:
    body = st("999", "0001", "005010X231A1", ["AK1*HC*17*005010X222A1", "AK2*837*0001", "AK9*A*1*1*1"])
    with pytest.raises(X12Error, match=r"transaction set 0001 \(AK2 at segment 5\) has no verdict \(IK5\) before AK9"):
        read_acknowledgements(interchange(93, gs("FA", 93, "005010X231A1", body)))


def test_text_that_is_not_x12_is_refused() -> None:
    with pytest.raises(X12Error, match="does not start with an ISA segment"):
        read_acknowledgements("Dear clinic, your file was received.")


def test_unknown_status_code_is_named_and_the_category_still_decides() -> None:
    claim = [
        "HL*4*3*PT",
        "NM1*QC*1*EXAMPLE*TESTY",
        "TRN*2*C2611009",
        "STC*A7:9999:85*20261122*WQ*100",
    ]
    (ack,) = read_acknowledgements(interchange(94, gs("HN", 94, "005010X214", ack_277("0001", claim)))).claim_acks
    assert ack.accepted is False
    assert ack.message == (
        "Rejected (A7: invalid information): status code 9999 (not in Infusion Desk's table) — billing provider"
    )


@pytest.mark.parametrize(
    ("stc", "accepted", "problem"),
    [
        ("STC*X9:99*20261122*U*100", False, False),  # a category we do not know: the action code decides
        ("STC*X9:99*20261122*WQ*100", True, False),
        ("STC*X9:99*20261122**100", False, True),  # nothing decides: not accepted, and said so
        ("STC*A1:19:PR~STC*A8:454*20261122*U*100", False, False),  # a rejecting category wins over A1
    ],
)
def test_claim_verdict_rules(stc: str, accepted: bool, problem: bool) -> None:
    claim = ["HL*4*3*PT", "NM1*QC*1*EXAMPLE*TESTY", "TRN*2*C2611010", *stc.split("~")]
    answer = read_acknowledgements(interchange(95, gs("HN", 95, "005010X214", ack_277("0001", claim))))
    (ack,) = answer.claim_acks
    assert ack.accepted is accepted
    assert bool(answer.problems) is problem


def test_997_is_read_like_a_999() -> None:
    body = st("997", "0001", "", ["AK1*HC*17", "AK2*837*0001", "AK3*NM1*8*2010BA*8", "AK4*9**7*XYZ", "AK5*R*5", "AK9*R*1*1*0"])
    (group,) = read_acknowledgements(interchange(96, gs("FA", 96, "004010", body))).group_acks
    (transaction,) = group.transactions
    assert transaction.accepted is False
    assert transaction.errors[0].elements[0].message == "NM109: invalid code value (sent 'XYZ')"


def test_an_interchange_with_nothing_in_it_is_reported() -> None:
    answer = read_acknowledgements(interchange(97))
    assert answer.problems == ("interchange 000000097 holds no acknowledgement.",)


# ------------------------------------------------------------------------------------------------
# The code tables.


def test_status_code_table_is_well_formed_and_covers_common_rejections() -> None:
    rows = list(csv.DictReader(io.StringIO(read_resource_text("claim_status_codes.csv"))))
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    assert all(r["description"] and r["source"] == "X12-508" for r in rows)
    table = claim_status_codes()
    for code in ("0", "1", "3", "15", "16", "19", "20", "21", "33", "97", "107", "116", "125", "145", "164", "187",
                 "247", "249", "400", "454", "455", "464", "477", "484", "496", "507", "509", "510", "511", "512",
                 "513", "516", "562", "564", "620", "621", "630", "645", "663", "685", "732"):
        assert code in table, code
    # X12's wording, e.g. code 164 (the patient's member id) and 496 (submitter enrolment)
    assert table["164"] == "Entity's contract/member number."
    assert table["496"] == "Submitter not approved for electronic claim submissions on behalf of this entity."


def test_category_table_verdicts() -> None:
    categories = claim_status_categories()
    assert {c.verdict for c in categories.values()} <= {"accepted", "rejected", "other"}
    assert [c for c in ("A0", "A1", "A2", "A5") if categories[c].verdict != "accepted"] == []
    assert [c for c in ("A3", "A4", "A6", "A7", "A8", "E0", "E1", "E2", "E3", "E4") if categories[c].verdict != "rejected"] == []


def test_status_messages_name_the_entity() -> None:
    assert claim_status("A6", "164", "IL").message == "Rejected for missing information: Entity's contract/member number — subscriber"
    assert claim_status("A7", "145", "82").summary == (
        "Rejected (A7: invalid information): 145 Entity's specialty/taxonomy code — rendering provider"
    )
    assert claim_status("A7", "562", "ZZ").message.endswith("— entity ZZ")
    assert ENTITIES["85"] == "billing provider"
