"""Fictional 271 files for the service and GUI tests, built with their counts right."""

from __future__ import annotations

from datetime import date

SOURCE = (
    "HL*1**20*1~NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~"
    "HL*2*1*21*1~NM1*1P*2*DEMO INFUSION CLINIC*****XX*1245319599~"
)
ACTIVE_BENEFITS = (
    "EB*1*IND*30**SILVER PPO~EB*B*IND*30***27*40*****Y~EB*C*IND*30***23*1500*****Y~"
    "EB*C*IND*30***29*1100*****Y~EB*A*IND*30*****0.2****Y~EB*G*IND*30***23*6000*****Y~"
    "EB*G*IND*30***29*5000*****Y~"
)


def subscriber(last: str, first: str, member: str, born: date, *, trace: str | None = None,
               benefits: str = ACTIVE_BENEFITS) -> str:
    """A 2000C subscriber loop, without its HL (added by :func:`response`)."""
    trn = f"TRN*2*{trace}*1123456789~" if trace else ""
    return f"{trn}NM1*IL*1*{last}*{first}****MI*{member}~DMG*D8*{born:%Y%m%d}~{benefits}"


def response(*subscribers: str, answered: date, control: int = 5) -> str:
    body = SOURCE + "".join(f"HL*{n}*2*22*0~{s}" for n, s in enumerate(subscribers, start=3))
    segments = [s for s in body.split("~") if s]
    return (
        "ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*DEMOCLINIC     "
        f"*{answered:%y%m%d}*0910*^*00501*{control:09d}*0*T*:~"
        f"GS*HB*CH*DC*{answered:%Y%m%d}*0910*{control}*X*005010X279A1~ST*271*0001*005010X279A1~"
        f"BHT*0022*11*E{control}*{answered:%Y%m%d}*0910~"
        + "".join(s + "~" for s in segments)
        + f"SE*{len(segments) + 3}*0001~GE*1*{control}~IEA*1*{control:09d}~"
    )
