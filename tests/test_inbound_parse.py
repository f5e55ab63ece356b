"""Reading residents' mail replies (portal/domain/inbound/parse.py): the text they wrote
without the quoted mail and signatures, in the styles of Gmail, Outlook and Apple Mail in Dutch
and English; HTML-only mail; charsets; images and attachments; machine-sent mail. Plus
properties: no input makes parsing raise, and no quoted part ever reaches the reply text."""

from __future__ import annotations

import string
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.domain.inbound.parse import automatic_kind, html_to_text, parse_message
from portal.domain.inbound.quotes import strip_reply, unflow

REPLY_TO = "wijkzaken+abcdefghjkmnpqrstuvw@hilversum.example"
OUR_MAIL = (
    "Beste meneer Jansen,\n\nIs de lamp bij nummer 12 nog steeds kapot?\n\n"
    "Met vriendelijke groet,\nAnna de Vries\nWijkzaken Hilversum"
)


def quoted(text: str = OUR_MAIL) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def mail(body: str, *, subject: str = "Re: Uw melding HLV-2026-000123", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Jan Jansen <bewoner@example.nl>")
    message["To"] = REPLY_TO
    message["Subject"] = subject
    message["Date"] = "Tue, 01 Dec 2026 11:30:00 +0100"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def html_mail(html: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Jan Jansen <bewoner@example.nl>"
    message["To"] = REPLY_TO
    message["Subject"] = "Re: Uw melding"
    for name, value in headers.items():
        message[name] = value
    message.set_content(html, subtype="html")
    return message.as_bytes()


def reply_of(raw: bytes) -> str:
    return parse_message(raw).reply_text


# --- plain text and HTML --------------------------------------------------------------------


def test_a_plain_reply_gives_its_text_and_headers() -> None:
    parsed = parse_message(mail("Ja, de lamp is nog steeds kapot.\n\nGroet, Jan\n"))
    assert parsed.reply_text == "Ja, de lamp is nog steeds kapot.\n\nGroet, Jan"
    assert parsed.full_text == parsed.reply_text
    assert parsed.subject == "Re: Uw melding HLV-2026-000123"
    assert parsed.from_address == "bewoner@example.nl"
    assert parsed.from_header == "Jan Jansen <bewoner@example.nl>"
    assert parsed.date == "Tue, 01 Dec 2026 11:30:00 +0100"
    assert parsed.readable and parsed.images == () and parsed.other_files == ()


def test_html_only_mail_becomes_text_with_its_paragraphs() -> None:
    html = (
        "<html><head><title>Re</title><style>p { color: red }</style></head><body>"
        "<script>alert('x')</script>"
        "<p>De stoep is <b>nog</b>&nbsp;kapot &amp; gevaarlijk.</p>"
        "<p>Regel een<br>Regel twee</p><ul><li>punt een</li><li>punt twee</li></ul>"
        "<div>Groet,<br>Jan</div></body></html>"
    )
    parsed = parse_message(html_mail(html))
    assert parsed.reply_text == (
        "De stoep is nog kapot & gevaarlijk.\n\nRegel een\nRegel twee\n\n"
        "- punt een\n- punt twee\n\nGroet,\nJan"
    )
    assert "alert" not in parsed.full_text and "color" not in parsed.full_text
    assert "<" not in parsed.full_text


def test_the_plain_alternative_wins_over_the_html() -> None:
    message = EmailMessage()
    message["From"] = "bewoner@example.nl"
    message.set_content("Platte tekst.\n")
    message.add_alternative("<p>HTML-tekst.</p>", subtype="html")
    assert reply_of(message.as_bytes()) == "Platte tekst."


def test_html_in_an_alternative_is_used_when_the_plain_part_is_empty() -> None:
    message = EmailMessage()
    message.set_content("\n")
    message.add_alternative("<p>Alleen hier staat iets.</p>", subtype="html")
    assert reply_of(message.as_bytes()) == "Alleen hier staat iets."


def test_html_to_text_keeps_preformatted_text_and_drops_markup() -> None:
    assert html_to_text("<pre>a  b\n  c</pre><p>d</p>") == "a  b\n  c\n\nd"
    assert html_to_text("<table><tr><td>a</td><td>b</td></tr></table>") == "a b"
    assert html_to_text("<p>x</p></div></span><p>y") == "x\n\ny"
    assert html_to_text("<img src=x alt=foto><p>tekst</p>") == "tekst"


# --- quoted history: Gmail, Outlook, Apple Mail, in Dutch and English -----------------------

GMAIL_NL = (
    "Ja, de lamp is nog steeds kapot.\n\n"
    "Op di 1 dec 2026 om 10:12 schreef Wijkzaken Hilversum <\n"
    f"{REPLY_TO}>:\n\n{quoted()}\n"
)
GMAIL_EN = (
    "Yes, the lamp is still broken.\n\n"
    f"On Tue, Dec 1, 2026 at 10:12 AM Wijkzaken Hilversum <{REPLY_TO}> wrote:\n\n{quoted()}\n"
)
OUTLOOK_NL = (
    "Ja, de lamp is nog steeds kapot.\n\n"
    "-----Oorspronkelijk bericht-----\n"
    f"Van: Wijkzaken Hilversum <{REPLY_TO}>\n"
    "Verzonden: dinsdag 1 december 2026 10:12\n"
    "Aan: Jan Jansen <bewoner@example.nl>\n"
    "Onderwerp: Uw melding HLV-2026-000123\n\n"
    f"{OUR_MAIL}\n"
)
OUTLOOK_NL_NEW = (
    "Ja, de lamp is nog steeds kapot.\n\n"
    "________________________________\n"
    f"Van: Wijkzaken Hilversum <{REPLY_TO}>\n"
    "Verzonden: dinsdag 1 december 2026 10:12\n"
    "Aan: Jan Jansen\n"
    "Onderwerp: Uw melding HLV-2026-000123\n\n"
    f"{OUR_MAIL}\n"
)
OUTLOOK_EN = (
    "Yes, the lamp is still broken.\n\n"
    "-----Original Message-----\n"
    f"From: Wijkzaken Hilversum <{REPLY_TO}>\n"
    "Sent: Tuesday, December 1, 2026 10:12 AM\n"
    "To: Jan Jansen\n"
    "Subject: Your report HLV-2026-000123\n\n"
    f"{OUR_MAIL}\n"
)
OUTLOOK_EN_NO_SEPARATOR = (
    "Yes, the lamp is still broken.\n\n"
    f"From: Wijkzaken Hilversum <{REPLY_TO}>\n"
    "Sent: Tuesday, December 1, 2026 10:12 AM\n"
    "To: Jan Jansen\n"
    "Subject: Your report\n\n"
    f"{OUR_MAIL}\n"
)
APPLE_NL = (
    "Ja, de lamp is nog steeds kapot.\n\n"
    "Verzonden vanaf mijn iPhone\n\n"
    f"> Op 1 dec. 2026 om 10:12 heeft Wijkzaken Hilversum <{REPLY_TO}> het volgende "
    "geschreven:\n>\n"
    f"{quoted()}\n"
)
APPLE_EN = (
    "Yes, the lamp is still broken.\n\n"
    "Sent from my iPhone\n\n"
    f"> On 1 Dec 2026, at 10:12, Wijkzaken Hilversum <{REPLY_TO}> wrote:\n>\n"
    f"{quoted()}\n"
)
APPLE_NL_UNQUOTED_ATTRIBUTION = (
    "Ja, de lamp is nog steeds kapot.\n\n"
    f"Op 1 dec. 2026 om 10:12 heeft Wijkzaken Hilversum <{REPLY_TO}> het volgende "
    "geschreven:\n\n"
    f"{quoted()}\n"
)
THUNDERBIRD_NL = (
    "Ja, de lamp is nog steeds kapot.\n\n"
    "Op 01-12-2026 om 10:12 schreef Wijkzaken Hilversum:\n"
    f"{quoted()}\n"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (GMAIL_NL, "Ja, de lamp is nog steeds kapot."),
        (GMAIL_EN, "Yes, the lamp is still broken."),
        (OUTLOOK_NL, "Ja, de lamp is nog steeds kapot."),
        (OUTLOOK_NL_NEW, "Ja, de lamp is nog steeds kapot."),
        (OUTLOOK_EN, "Yes, the lamp is still broken."),
        (OUTLOOK_EN_NO_SEPARATOR, "Yes, the lamp is still broken."),
        (APPLE_NL, "Ja, de lamp is nog steeds kapot."),
        (APPLE_EN, "Yes, the lamp is still broken."),
        (APPLE_NL_UNQUOTED_ATTRIBUTION, "Ja, de lamp is nog steeds kapot."),
        (THUNDERBIRD_NL, "Ja, de lamp is nog steeds kapot."),
    ],
    ids=[
        "gmail-nl",
        "gmail-en",
        "outlook-nl",
        "outlook-nl-new",
        "outlook-en",
        "outlook-en-no-separator",
        "apple-nl",
        "apple-en",
        "apple-nl-unquoted-attribution",
        "thunderbird-nl",
    ],
)
def test_quoted_history_is_not_part_of_the_reply(body: str, expected: str) -> None:
    parsed = parse_message(mail(body))
    assert parsed.reply_text == expected
    # Staff still have every word.
    assert "Is de lamp bij nummer 12 nog steeds kapot?" in parsed.full_text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Klopt.\n\n-- \nJan Jansen\nDorpsstraat 1\n06-12345678\n", "Klopt."),
        ("Klopt.\n--\nJan Jansen\n", "Klopt."),
        ("Klopt.\n\nVerstuurd vanaf mijn Samsung Galaxy-smartphone.\n", "Klopt."),
        ("Klopt.\n\nVerzonden met Outlook voor Android\n", "Klopt."),
        ("Klopt.\n\nGet Outlook for iOS\n", "Klopt."),
        ("Klopt.\n\nSent from my iPad\n", "Klopt."),
        ("Klopt.\n\nVerzonden vanuit Mail voor Windows\n", "Klopt."),
    ],
)
def test_signatures_and_phone_footers_are_not_part_of_the_reply(body: str, expected: str) -> None:
    assert reply_of(mail(body)) == expected


def test_answers_between_quoted_lines_are_kept_and_the_quotes_dropped() -> None:
    body = "> Is de lamp nog kapot?\nJa, nog steeds.\n\n> Sinds wanneer?\nSinds vorige week.\n"
    assert reply_of(mail(body)) == "Ja, nog steeds.\n\nSinds vorige week."


def test_a_reply_under_the_quote_is_kept() -> None:
    body = f"On Tue, Dec 1, 2026 at 10:12 AM Wijkzaken <{REPLY_TO}> wrote:\n{quoted()}\n\nKlopt."
    assert reply_of(mail(body)) == "Klopt."


def test_the_residents_own_words_that_only_look_like_history_stay() -> None:
    body = (
        "Op maandag schreef ik al:\n"
        "de lamp is kapot.\n"
        "Van: de buurvrouw hoorde ik dat hij al weken stuk is.\n"
        "Verzonden via de post heb ik ook een brief."
    )
    assert reply_of(mail(body)) == body


GMAIL_HTML = (
    '<div dir="ltr">De stoep is nog kapot.<br>Kunt u komen kijken?</div><br>'
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Op di 1 dec 2026 om 10:12 '
    f'schreef Wijkzaken Hilversum &lt;<a href="mailto:{REPLY_TO}">{REPLY_TO}</a>&gt;:<br></div>'
    '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">'
    "<p>Beste meneer Jansen,</p><p>Is de stoep nog kapot?</p></blockquote></div>"
)
OUTLOOK_HTML = (
    "<html><head><style>@font-face { font-family: Calibri }</style></head><body>"
    '<div class="WordSection1"><p class="MsoNormal">Ja, nog steeds.<o:p></o:p></p>'
    '<div id="Signature"><p>Jan Jansen<br>06-12345678</p></div>'
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal">'
    f"<b>Van:</b> Wijkzaken Hilversum &lt;{REPLY_TO}&gt;<br>"
    "<b>Verzonden:</b> dinsdag 1 december 2026 10:12<br><b>Aan:</b> Jan Jansen<br>"
    "<b>Onderwerp:</b> Uw melding</p></div><p>Is de stoep nog kapot?</p></div></body></html>"
)
APPLE_HTML = (
    "<html><body><div>Hij is weer heel, dank u!</div><div><br></div>"
    '<div id="AppleMailSignature">Verzonden vanaf mijn iPhone</div>'
    '<div><br><blockquote type="cite">Op 1 dec. 2026 om 10:12 heeft Wijkzaken Hilversum '
    f"&lt;{REPLY_TO}&gt; het volgende geschreven:<br><br></blockquote></div>"
    '<blockquote type="cite"><div>Is de stoep nog kapot?</div></blockquote></body></html>'
)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (GMAIL_HTML, "De stoep is nog kapot.\nKunt u komen kijken?"),
        (OUTLOOK_HTML, "Ja, nog steeds."),
        (APPLE_HTML, "Hij is weer heel, dank u!"),
    ],
    ids=["gmail", "outlook", "apple-mail"],
)
def test_quotes_in_html_mail_are_not_part_of_the_reply(html: str, expected: str) -> None:
    parsed = parse_message(html_mail(html))
    assert parsed.reply_text == expected
    assert "Is de stoep nog kapot?" in parsed.full_text


# --- charsets and encodings -----------------------------------------------------------------


def test_iso_8859_1_quoted_printable() -> None:
    part = MIMEText("Café op de hoek: één lamp is stuk.\n", "plain", "iso-8859-1")
    raw = part.as_bytes()
    assert b"=E9" in raw  # really quoted-printable latin-1 on the wire
    assert reply_of(raw) == "Café op de hoek: één lamp is stuk."


def test_windows_1252_labelled_as_latin_1_keeps_the_euro_sign() -> None:
    raw = (
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nHet kost \x80 12,\x93echt\x94.\r\n"
    )
    assert reply_of(raw) == "Het kost € 12,“echt”."


def test_base64_utf8_and_an_encoded_subject() -> None:
    part = MIMEText("Groetjes uit Zuidwest 🌳\n", "plain", "utf-8")
    part["Subject"] = "=?iso-8859-1?q?Re=3A_Caf=E9?="
    parsed = parse_message(part.as_bytes())
    assert parsed.reply_text == "Groetjes uit Zuidwest 🌳"
    assert parsed.subject == "Re: Café"


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        (b"text/plain; charset=x-unknown-charset", "Gewoon tekst €".encode(), "Gewoon tekst €"),
        (b"text/plain", "Geen charset, wel UTF-8: één".encode(), "Geen charset, wel UTF-8: één"),
        (b"text/plain; charset=utf-8", b"Kapot \xe9 latin-1", "Kapot é latin-1"),
    ],
    ids=["unknown-charset", "missing-charset", "wrong-charset"],
)
def test_wrong_or_missing_charsets_still_give_text(
    header: bytes, body: bytes, expected: str
) -> None:
    raw = b"Content-Type: " + header + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    assert reply_of(raw) == expected


def test_control_characters_never_reach_the_text() -> None:
    raw = b"Subject: Re:\x00 melding\r\n\r\nTekst\x00 met\x07 nul\r\n"
    parsed = parse_message(raw)
    assert parsed.reply_text == "Tekst met nul"
    assert parsed.subject == "Re: melding"


def test_format_flowed_lines_are_joined_into_paragraphs() -> None:
    raw = (
        b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=no\r\n\r\n"
        b"Dit is een lange zin die de \r\nmailclient heeft afgebroken.\r\n\r\n"
        b"> Een geciteerde \r\n> regel.\r\n"
    )
    assert reply_of(raw) == "Dit is een lange zin die de mailclient heeft afgebroken."
    assert unflow("a \nb\n> c \n> d", delsp=False) == "a b\n> c d"
    assert unflow("ab \ncd", delsp=True) == "abcd"


# --- images and attachments -----------------------------------------------------------------


def test_images_attached_and_inline_and_other_files() -> None:
    message = EmailMessage()
    message["From"] = "bewoner@example.nl"
    message.set_content("Zie de foto's.\n")
    message.add_alternative('<p>Zie de foto\'s.</p><img src="cid:foto1">', subtype="html")
    message.get_payload()[1].add_related(b"inline-jpeg", "image", "jpeg", cid="<foto1>")
    message.add_attachment(b"jpeg-bytes", "image", "jpeg", filename="stoep.jpg")
    message.add_attachment(b"%PDF-1.4", "application", "pdf", filename="brief.pdf")
    message.add_attachment(b"png-bytes", "application", "octet-stream", filename="IMG_1.PNG")
    forwarded = EmailMessage()
    forwarded.set_content("Doorgestuurd")
    forwarded.add_attachment(b"not-mine", "image", "png", filename="elders.png")
    message.add_attachment(forwarded)

    parsed = parse_message(message.as_bytes())
    assert parsed.reply_text == "Zie de foto's."
    assert [(i.filename, i.data, i.inline) for i in parsed.images] == [
        ("", b"inline-jpeg", True),
        ("stoep.jpg", b"jpeg-bytes", False),
        ("IMG_1.PNG", b"png-bytes", False),
    ]
    assert [f.filename for f in parsed.other_files] == ["brief.pdf"]


def test_a_text_attachment_is_a_file_not_the_reply() -> None:
    outer = MIMEMultipart()
    outer.attach(MIMEText("Het bericht.", "plain", "utf-8"))
    attachment = MIMEText("Inhoud van een bijlage.", "plain", "utf-8")
    attachment.add_header("Content-Disposition", "attachment", filename="notities.txt")
    outer.attach(attachment)
    parsed = parse_message(outer.as_bytes())
    assert parsed.reply_text == "Het bericht."
    assert [f.filename for f in parsed.other_files] == ["notities.txt"]


# --- machines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "envelope_from", "expected"),
    [
        ({}, "bewoner@example.nl", None),
        ({"Auto_Submitted": "no"}, "bewoner@example.nl", None),
        ({"Auto_Submitted": "auto-replied"}, "bewoner@example.nl", "auto_reply"),
        ({"Auto_Submitted": "auto-generated"}, "bewoner@example.nl", "auto_reply"),
        ({"X_Autoreply": "yes"}, "bewoner@example.nl", "auto_reply"),
        ({"X_Autorespond": "Out of office"}, "bewoner@example.nl", "auto_reply"),
        ({"Precedence": "auto_reply"}, "bewoner@example.nl", "auto_reply"),
        ({"Precedence": "bulk"}, "bewoner@example.nl", "auto_reply"),
        ({"Precedence": "junk"}, "bewoner@example.nl", "auto_reply"),
        ({"subject": "Afwezig: Re: Uw melding"}, "bewoner@example.nl", "auto_reply"),
        ({"subject": "Out of Office: Uw melding"}, "bewoner@example.nl", "auto_reply"),
        ({"subject": "Automatisch antwoord: Uw melding"}, "bewoner@example.nl", "auto_reply"),
        ({"subject": "Automatic reply: Your report"}, "bewoner@example.nl", "auto_reply"),
        ({}, "", "bounce"),
        ({}, "<>", "bounce"),
        ({"From": "Mail Delivery System <MAILER-DAEMON@mx.example.nl>"}, "x@mx.nl", "bounce"),
        ({"From": "postmaster@example.nl"}, "postmaster@example.nl", "bounce"),
        ({"X_Failed_Recipients": "bewoner@example.nl"}, "bewoner@example.nl", "bounce"),
        ({"subject": "Undeliverable: Uw melding"}, "bewoner@example.nl", "bounce"),
    ],
)
def test_machine_sent_mail_is_recognised(headers, envelope_from, expected) -> None:  # type: ignore[no-untyped-def]
    headers = dict(headers)
    subject = headers.pop("subject", "Re: Uw melding HLV-2026-000123")
    parsed = parse_message(mail("Tekst", subject=subject, **headers))
    assert automatic_kind(parsed, envelope_from) == expected


def test_a_delivery_report_is_a_bounce() -> None:
    raw = (
        b"From: bewoner@example.nl\r\nSubject: Re: melding\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nKon niet bezorgd worden.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n"
    )
    assert automatic_kind(parse_message(raw), "bewoner@example.nl") == "bounce"


# --- properties -----------------------------------------------------------------------------

_header_names = st.sampled_from(
    ["From", "To", "Subject", "Date", "Content-Type", "Content-Transfer-Encoding",
     "Content-Disposition", "Auto-Submitted", "MIME-Version", "X-Whatever"]
)  # fmt: skip
_header_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "multipart/mixed; boundary=x",
            'multipart/alternative; boundary="b"',
            "text/plain; charset=x-nope",
            "text/html; charset=utf-7",
            "base64",
            "quoted-printable",
            "attachment; filename*=utf-8''%E9",
            "=?utf-8?b?////?=",
            "=?x?q?=ZZ?=",
            "<@>, ,,@",
            '"unclosed <a@b',
        ]
    ),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=3000))
def test_parsing_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert isinstance(parsed.reply_text, str)
    assert "\x00" not in parsed.reply_text + parsed.subject + parsed.full_text


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.tuples(_header_names, _header_values), max_size=8),
    st.one_of(st.text(max_size=500), st.sampled_from(["--x\r\n\r\n--x--", "--b\r\n"])),
)
def test_parsing_never_raises_on_odd_headers_and_bodies(headers, body) -> None:  # type: ignore[no-untyped-def]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    raw = (head + "\r\n" + body).encode("utf-8", errors="surrogateescape")
    parsed = parse_message(raw)
    automatic_kind(parsed, "")
    automatic_kind(parsed, "bewoner@example.nl")
    assert "\x00" not in parsed.reply_text + parsed.subject


_line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=60
)
_resident = st.lists(_line_text, min_size=0, max_size=6).map("\n".join)
_quoted_lines = st.lists(_line_text, min_size=1, max_size=6)
_styles = st.sampled_from(["gmail-nl", "gmail-en", "outlook-nl", "outlook-en", "apple", "html"])
SENTINEL = "QQZZQQ"


def _reply_in_style(style: str, resident: str, lines: list[str]) -> bytes:
    original = "\n".join(f"{SENTINEL}{i} {line}" for i, line in enumerate(lines))
    if style == "gmail-nl":
        body = f"{resident}\n\nOp di 1 dec 2026 om 10:12 schreef W <{REPLY_TO}>:\n\n"
        return mail(body + quoted(original))
    if style == "gmail-en":
        body = f"{resident}\n\nOn Tue, Dec 1, 2026 at 10:12 AM W <{REPLY_TO}> wrote:\n"
        return mail(body + quoted(original))
    if style == "outlook-nl":
        body = (
            f"{resident}\n\n-----Oorspronkelijk bericht-----\nVan: W <{REPLY_TO}>\n"
            "Verzonden: dinsdag 1 december 2026 10:12\nAan: Jan\nOnderwerp: Melding\n\n"
        )
        return mail(body + original)
    if style == "outlook-en":
        body = (
            f"{resident}\n\nFrom: W <{REPLY_TO}>\nSent: Tuesday, December 1, 2026 10:12\n"
            "To: Jan\nSubject: Report\n\n"
        )
        return mail(body + original)
    if style == "apple":
        return mail(f"{resident}\n\nSent from my iPhone\n\n" + quoted(original))
    escaped = original.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br>")
    resident_html = resident.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br>")
    return html_mail(f"<div>{resident_html}</div><blockquote>{escaped}</blockquote>")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_styles, _resident, _quoted_lines)
def test_the_quoted_part_never_reaches_the_reply_text(style, resident, lines) -> None:  # type: ignore[no-untyped-def]
    assume(SENTINEL not in resident)
    parsed = parse_message(_reply_in_style(style, resident, lines))
    assert SENTINEL not in parsed.reply_text
    assert SENTINEL in parsed.full_text  # the whole mail stays for staff


@given(st.text(alphabet=string.printable + "éë€“”>", max_size=400))
def test_strip_reply_keeps_no_quoted_line(text: str) -> None:
    result = strip_reply(text)
    assert not any(line.lstrip().startswith(">") for line in result.split("\n"))
