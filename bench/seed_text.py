"""What the seeded signals say: titles and descriptions from sentences residents write, so a
word occurs about as often as it would in real signals.

The old generator strung 12-60 random words from a list of 42: a two-word search such as
"glasbak kapot" then matched 36% of all signals, which no index can count quickly and no real
inbox looks like. Here "glasbak" is in about 3% of the signals and "glasbak" with "kapot" in
well under 1% (bench/README.md measures it)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from portal.vocabulary import Theme

STREETS = (
    "Kerkelandenlaan", "Larenseweg", "Oostereind", "Schapenkamp", "Langestraat", "Kerkstraat",
    "Havenstraat", "Soestdijkerstraatweg", "Loosdrechtseweg", "Vaartweg", "Bussumergrintweg",
    "Diependaalselaan", "Gijsbrecht van Amstelstraat", "Neuweg", "Jan van der Heijdenstraat",
    "Liebergerweg", "Minckelersstraat", "Oude Amersfoortseweg", "Utrechtseweg", "Hoge Naarderweg",
    "Koninginneweg", "Emmastraat", "Stationsstraat", "Leeuwenstraat", "Groest", "Zeedijk",
    "Geuzenweg", "Erfgooiersstraat", "Insulindelaan", "Javalaan", "Mauvestraat", "Marislaan",
    "Lage Naarderweg", "Noorderweg", "Frans Halslaan", "Rembrandtlaan", "Vondellaan",
    "Beatrixlaan", "Bosdrift", "Anemoonstraat", "Seringenstraat", "Kamerlingh Onneslaan",
    "Nieuwe Crailoseweg", "Rading", "Vreelandseweg", "Albertus Perkstraat", "Lorentzweg",
)  # fmt: skip

PLACES = (
    "op de hoek van de {street}", "bij de speeltuin aan de {street}", "voor de school",
    "bij de bushalte", "achter het winkelcentrum", "naast de supermarkt", "bij het station",
    "in het park", "langs het fietspad", "op het pleintje", "bij de kerk", "tegenover de bakker",
    "bij nummer {number}", "voor de flat aan de {street}", "bij de ingang van het park",
    "aan het einde van de {street}", "bij de sporthal", "naast het buurthuis",
    "op de parkeerplaats aan de {street}", "bij de vijver", "in de steeg achter de {street}",
)  # fmt: skip

SINCE = (
    "al een week", "sinds gisteren", "al drie weken", "sinds het weekend", "al maanden",
    "sinds vorige maand", "sinds vanochtend", "al een paar dagen", "opnieuw",
)  # fmt: skip


@dataclass(frozen=True)
class Issue:
    theme: Theme
    weight: float
    title: str
    sentence: str  # with {place}, {since}, {street}, {number}


# What residents report (knelpunten), with how often, per theme. "Glasbak" is in three issues
# (about 3% of all signals), "kapot" in several; "glasbak kapot" in one (about 0.25%).
ISSUES = (
    Issue(Theme.SCHOON, 6, "Afval naast de containers",
          "Naast de ondergrondse containers {place} staan {since} vuilniszakken."),
    Issue(Theme.SCHOON, 4, "Zwerfvuil", "Er ligt {since} veel zwerfvuil {place}."),
    Issue(Theme.SCHOON, 3, "Hondenpoep op de stoep",
          "De stoep {place} ligt vol hondenpoep, {since}."),
    Issue(Theme.SCHOON, 2, "Grofvuil op straat",
          "Iemand heeft een oude bank en een matras {place} neergezet, {since}."),
    Issue(Theme.SCHOON, 1.2, "Glasbak vol",
          "De glasbak {place} is {since} vol en er staan flessen naast."),
    Issue(Theme.SCHOON, 0.7, "Glas naast de glasbak",
          "Naast de glasbak {place} ligt glas op de grond."),
    Issue(Theme.SCHOON, 0.2, "Glasbak kapot", "De klep van de glasbak {place} is kapot."),
    Issue(Theme.SCHOON, 2, "Graffiti", "Op de muur {place} is graffiti gespoten."),
    Issue(Theme.SCHOON, 2, "Bladeren niet opgeruimd",
          "De bladeren {place} zijn {since} niet opgeruimd, het is glad."),
    Issue(Theme.SCHOON, 1.5, "Papiercontainer vol",
          "De papiercontainer {place} zit {since} vol, er ligt karton naast."),
    Issue(Theme.HEEL, 5, "Lantaarnpaal brandt niet",
          "De lantaarnpaal {place} brandt {since} niet."),
    Issue(Theme.HEEL, 4, "Losse stoeptegels", "{place_cap} liggen stoeptegels los."),
    Issue(Theme.HEEL, 3, "Gat in de weg", "Er zit een diep gat in het asfalt {place}."),
    Issue(Theme.HEEL, 2, "Bankje kapot", "Het bankje {place} is kapot, de planken zijn los."),
    Issue(Theme.HEEL, 2, "Speeltoestel kapot",
          "De schommel in de speeltuin {place} is kapot."),
    Issue(Theme.HEEL, 1.5, "Verkeersbord scheef",
          "Het verkeersbord {place} staat scheef na een aanrijding."),
    Issue(Theme.HEEL, 1.5, "Riool verstopt",
          "Het riool {place} is verstopt, bij regen staat de straat blank."),
    Issue(Theme.HEEL, 1.5, "Boom beschadigd",
          "Een boom {place} is bij de storm beschadigd; er hangt een grote tak los."),
    Issue(Theme.HEEL, 1, "Fietsenrek kapot", "Het fietsenrek {place} is kapot."),
    Issue(Theme.HEEL, 1, "Putdeksel los", "Het putdeksel {place} ligt los en klappert."),
    Issue(Theme.VEILIG, 4, "Te hard rijden",
          "Auto's rijden {since} veel te hard over de {street}."),
    Issue(Theme.VEILIG, 3, "Onveilige oversteekplaats",
          "De oversteekplaats {place} is onoverzichtelijk, kinderen steken er over naar school."),
    Issue(Theme.VEILIG, 2, "Overlast van jongeren",
          "'s Avonds hangen jongeren rond {place}; ze maken lawaai tot laat."),
    Issue(Theme.VEILIG, 2, "Donkere plek", "Het pad {place} is 's avonds erg donker."),
    Issue(Theme.VEILIG, 1.5, "Fout geparkeerd",
          "Er wordt {since} geparkeerd op de stoep {place}, rolstoelen kunnen er niet langs."),
    Issue(Theme.VEILIG, 1, "Drugsoverlast", "Er wordt {place} gedeald, {since}."),
    Issue(Theme.SOCIAAL, 2, "Zorgen om een buurtbewoner",
          "Een oudere buurman aan de {street} komt {since} niet meer buiten."),
    Issue(Theme.SOCIAAL, 1.5, "Burenruzie",
          "Er is {since} ruzie tussen buren aan de {street}, het wordt steeds erger."),
    Issue(Theme.SOCIAAL, 1, "Eenzaamheid in de buurt",
          "Veel ouderen aan de {street} zitten alleen thuis en kennen niemand."),
)  # fmt: skip

# Initiatives: what residents want to do themselves.
INITIATIVES = (
    Issue(Theme.SOCIAAL, 3, "Buurtmaaltijd voor ouderen",
          "Wij willen één keer per maand een maaltijd voor ouderen organiseren {place}."),
    Issue(Theme.SOCIAAL, 2, "Straatfeest",
          "Wij willen deze zomer een straatfeest houden in de {street}."),
    Issue(Theme.SOCIAAL, 2, "Koffieochtend", "Wij beginnen een wekelijkse koffieochtend {place}."),
    Issue(Theme.SCHOON, 2, "Opruimactie", "Met de buren willen we een opruimactie houden {place}."),
    Issue(Theme.SCHOON, 2, "Geveltuintjes", "Wij willen geveltuintjes aanleggen in de {street}."),
    Issue(Theme.SCHOON, 1.5, "Moestuin in de buurt",
          "Wij willen een moestuin beginnen op het braakliggende stuk {place}."),
    Issue(Theme.HEEL, 1.5, "Speeltuin opknappen",
          "De speeltuin {place} is verouderd; wij willen hem samen opknappen."),
    Issue(Theme.HEEL, 1, "Boekenkastje", "Wij willen een minibieb neerzetten {place}."),
    Issue(Theme.VEILIG, 1.5, "AED in de straat",
          "Wij zamelen geld in voor een AED aan de gevel {place}."),
    Issue(Theme.VEILIG, 1, "Buurtpreventie",
          "Wij willen een buurtpreventie-app starten voor de {street}."),
    Issue(Theme.SOCIAAL, 1, "Jongerenavond",
          "Wij willen in het buurthuis een avond voor jongeren."),
)  # fmt: skip

EXTRAS = (
    "Kinderen spelen hier vaak.", "Er komen ratten op af.", "Ik heb het eerder gemeld.",
    "Wilt u er iets aan doen?", "Mijn buren hebben er ook last van.",
    "Er is al iemand over gevallen.", "Het stinkt er behoorlijk.", "Graag snel actie.",
    "Ik woon hier al twintig jaar en zo erg was het nog nooit.", "Foto's heb ik bijgevoegd.",
    "Het gebeurt vooral in het weekend.", "Met een rollator kom je er niet meer langs.",
    "Wie is hiervoor verantwoordelijk?", "Ik hoor graag wat u ermee doet.",
    "De gemeente heeft er vorig jaar ook al naar gekeken.", "Bellen mag altijd.",
    "Er ligt ook glas op de stoep.", "Het is vooral 's avonds een probleem.",
)  # fmt: skip

INITIATIVE_EXTRAS = (
    "Er doen al tien buren mee.", "We zoeken nog een ruimte.",
    "We vragen een klein budget voor de boodschappen.", "De woningcorporatie denkt mee.",
    "Kunnen jullie ons helpen met een vergunning?", "We hebben al een plan gemaakt.",
)  # fmt: skip

FIRST_NAMES = (
    "Jan", "Anna", "Mohamed", "Fatma", "Pieter", "Sanne", "Kees", "Lotte", "Ingrid", "Joris",
    "Emma", "Daan", "Sophie", "Lucas", "Julia", "Sem", "Noor", "Bram", "Yara", "Ahmed", "Mila",
    "Thomas", "Eva", "Ruben", "Fleur", "Hanneke", "Gerrit", "Wilma", "Priya", "Ali",
)  # fmt: skip
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot",
    "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra",
    "Yilmaz", "el Amrani", "Kaya", "Ramdin", "van Dijk", "Koster", "Prins", "Huisman",
)  # fmt: skip
# (name, KvK number): businesses and organisations that report in their street.
ORGANISATIONS = (
    ("Dudok Wonen", "32016347"), ("Het Gooi en Omstreken", "32009412"),
    ("Stichting Buurtwerk Hilversum", "41190233"), ("Bakkerij De Korenschoof", "61402218"),
    ("Sportvereniging 't Gooi", "40516755"), ("Basisschool De Regenboog", "41193311"),
    ("Supermarkt Hilversum-Zuid", "58120944"), ("Stichting Kinderopvang Gooi", "32131298"),
    ("Vereniging Wijkbelangen Oost", "40519017"), ("Tennisclub Hilversum", "40516900"),
    ("Zorggroep Hilverzorg", "32095710"), ("Fietsenmaker Van Amerongen", "52744196"),
    ("Stichting Dorpshuis Kerkelanden", "41191045"), ("Garage Loosdrechtseweg", "32150877"),
)  # fmt: skip
FOLLOW_UP_REASONS = (
    "Terugbellen", "Kijken of het is opgelost", "Nagaan bij de aannemer", "Buurtschouw",
    "Antwoord van de wijkagent", "Overleg met de corporatie",
)  # fmt: skip


class Writer:
    """Titles, descriptions and people, drawn with one random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._issues = ISSUES
        self._issue_weights = [i.weight for i in ISSUES]
        self._initiative_weights = [i.weight for i in INITIATIVES]

    def issue(self, initiative: bool) -> Issue:
        if initiative:
            return self.rng.choices(INITIATIVES, weights=self._initiative_weights)[0]
        return self.rng.choices(ISSUES, weights=self._issue_weights)[0]

    def text(self, issue: Issue, initiative: bool, street: str | None) -> tuple[str, str]:
        """(title, description) for ``issue`` at a place near ``street``."""
        rng = self.rng
        street = street or rng.choice(STREETS)
        place = rng.choice(PLACES).format(street=street, number=rng.randint(1, 180))
        main = issue.sentence.format(
            place=place,
            place_cap=place[0].upper() + place[1:],
            since=rng.choice(SINCE),
            street=street,
            number=rng.randint(1, 180),
        )
        extras = INITIATIVE_EXTRAS if initiative else EXTRAS
        more = rng.sample(extras, rng.randint(0, 3))
        description = " ".join([main[0].upper() + main[1:], *more])
        title = issue.title if rng.random() < 0.6 else f"{issue.title} {place}"
        return title[:120], description

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def email(self, name: str) -> str:
        local = name.lower().replace(" ", ".").replace("'", "")
        return f"{local}{self.rng.randint(1, 999)}@example.nl"

    def phone(self) -> str:
        return f"06{self.rng.randint(10_000_000, 99_999_999)}"
