"""Word lists the data generator draws from: names, places, trades and phrases.

Names carry accents and apostrophes on purpose, so that crm's name keys (case-folded,
accents stripped) have real work to do.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = (
    "Anna", "Lukas", "Sofia", "Jonas", "Emma", "Leon", "Mia", "Felix", "Hannah", "Paul",
    "Lea", "Maximilian", "Olivia", "Noah", "Amelia", "Jack", "Isla", "Oliver", "Charlotte",
    "Harry", "Emily", "George", "James", "Mary", "John", "Patricia", "Robert", "Jennifer",
    "Michael", "Linda", "David", "Susan", "Chloé", "Louis", "Léa", "Hugo", "Camille", "Jules",
    "Manon", "Théo", "Daan", "Sanne", "Bram", "Fleur", "Sem", "Lotte", "Lucía", "Mateo",
    "Martina", "Alejandro", "Paula", "Javier", "Zoë", "Søren", "Ingrid", "Björn", "Astrid",
    "Mohammed", "Fatima", "Ahmed", "Aylin", "Mehmet", "Yuki", "Hiroshi", "Wei", "Mei",
    "Priya", "Arjun", "Olga", "Dmitri", "Katarzyna", "Piotr", "Éva", "Tomás", "Siobhán",
    "Ciarán", "Renée", "François",
)  # fmt: skip

LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Zimmermann", "Krüger",
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Miller", "Garcia", "Martinez", "Anderson", "Clark", "Lewis", "Walker", "Hall",
    "Martin", "Bernard", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau",
    "de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer",
    "García", "Fernández", "González", "Rodríguez", "López", "Sánchez", "Pérez", "Gómez",
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Nowak", "Kowalski",
    "Wiśniewski", "Novák", "Svoboda", "Nielsen", "Hansen", "Ødegaard", "Johansson", "Lindqvist",
    "O'Brien", "O'Connor", "Murphy", "Kelly", "Nguyen", "Tanaka", "Suzuki", "Chen", "Wang",
    # One name has a Turkish dotless i on purpose: crm does not fold it to a plain i.
    "Kim", "Patel", "Singh", "Yılmaz", "Kaya", "Ivanov", "Petrova",
)  # fmt: skip

COMPANY_WORDS = (
    "Northern", "Blue", "Bright", "Silver", "Green", "Alpine", "Atlantic", "Nordic", "Urban",
    "Pacific", "Golden", "Red", "Rapid", "Smart", "Prime", "Central", "Royal", "Clear", "True",
    "Summit", "Harbour", "River", "Oak", "Cedar", "Falcon", "Eagle", "Lighthouse", "Crystal",
    "Iron", "Granite", "Sun", "Maple", "Delta", "Orbit", "Pioneer", "Evergreen",
)  # fmt: skip

COMPANY_TRADES = (
    "Logistics", "Systems", "Consulting", "Solutions", "Engineering", "Foods", "Robotics",
    "Analytics", "Design", "Media", "Energy", "Labs", "Partners", "Software", "Trading",
    "Industries", "Health", "Textiles", "Metalworks", "Construction", "Capital", "Networks",
    "Pharma", "Motors", "Interiors", "Optics", "Print", "Travel", "Bakery", "Brewing",
    "Dental", "Architects", "Insurance", "Security", "Cleaning", "Furniture",
)  # fmt: skip

WEBMAIL = ("gmail.com", "outlook.com", "yahoo.com", "gmx.de", "web.de", "icloud.com",
           "proton.me", "orange.fr", "ziggo.nl", "btinternet.com")  # fmt: skip

COMPANY_MAILBOXES = ("info", "sales", "office", "hello", "contact", "kontakt", "service")

SEGMENTS = ("enterprise", "mid-market", "smb", "smb", "smb", "public-sector", "startup", None)

INDUSTRIES = (
    "Software", "Manufacturing", "Retail", "Logistics", "Healthcare", "Financial services",
    "Construction", "Education", "Hospitality", "Energy", "Media", "Agriculture", None,
)  # fmt: skip

SOURCES = (
    "website", "referral", "trade fair", "cold call", "partner", "webinar", "newsletter",
    "linkedin", None, None,
)  # fmt: skip

TAGS = (
    "vip", "newsletter", "partner", "reseller", "key-account", "churn-risk", "referral",
    "trade-fair-2024", "webinar", "beta-tester", "invoice-by-post", "gdpr-consent", "upsell",
    "nonprofit", "event-berlin", "event-london", "priority-support", "annual-contract", "trial",
    "public-sector",
)  # fmt: skip

JOB_TITLES = (
    "CEO", "CTO", "CFO", "Managing Director", "Head of Purchasing", "Office Manager",
    "Sales Director", "IT Manager", "Procurement Lead", "Marketing Manager",
    "Operations Manager", "Assistant to the CEO", "Accountant", None, None,
)  # fmt: skip

# (username, display name, role); the generator adds these after crm's own first admin.
USERS = (
    ("lena.fischer", "Lena Fischer", "sales"),
    ("tom.baker", "Tom Baker", "sales"),
    ("sofia.rossi", "Sofia Rossi", "sales"),
    ("jan.devries", "Jan de Vries", "service"),
    ("amelie.martin", "Amélie Martin", "service"),
    ("mark.jones", "Mark Jones", "manager"),
)

ACTIVITY_KINDS = ("note", "note", "note", "note", "call", "call", "email", "email", "meeting")

SUBJECTS = {
    "note": (None, None, "Internal note", "Budget", "Decision makers"),
    "call": ("Intro call", "Follow-up call", "Call about the quote", "Support call"),
    "email": ("Re: your quote", "Contract draft", "Invoice question", "Meeting notes"),
    "meeting": ("Kick-off meeting", "Product demo", "Quarterly review", "Site visit"),
}

SENTENCES = (
    "Asked for a quote for next quarter.",
    "Budget is approved, waiting for the purchase order.",
    "Prefers to be called in the morning.",
    "Interested in the premium plan.",
    "Complained about the delivery time of the last order.",
    "Wants a demo for the whole team.",
    "Contract renewal is due in the autumn.",
    "Sent the price list and two references.",
    "The decision is made by the board, not by our contact.",
    "Will compare us with two other vendors.",
    "Happy with the support so far.",
    "Needs the invoice with a purchase order number.",
    "Moved to a new office; address updated.",
    "Asked about data protection and where the data is hosted.",
    "Met at the trade fair; left a business card.",
    "No answer, left a voicemail.",
    "Agreed on a pilot with ten users.",
    "Payment is overdue by two weeks.",
    "Recommended us to a partner company.",
    "Wants training for new staff in January.",
)

TASK_TITLES = (
    "Call back {name}",
    "Send quote to {name}",
    "Follow up on the demo with {name}",
    "Prepare contract renewal for {name}",
    "Check open invoice of {name}",
    "Book a meeting with {name}",
    "Send the welcome pack to {name}",
)


@dataclass(frozen=True)
class Country:
    """What makes an address and a phone number look like they come from one country."""

    code: str
    dial: str  # the calling code, without +
    national_digits: int  # digits after the calling code, area code included
    mobile_prefixes: tuple[str, ...]
    mobile_digits: int
    tld: str
    legal_forms: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (city, area code)
    streets: tuple[str, ...]
    number_first: bool  # "12 High Street" rather than "Hauptstraße 12"
    postcode_style: str  # "digits5", "nl" or "uk"


COUNTRIES = (
    Country(
        "DE", "49", 10, ("151", "160", "172", "176"), 11, "de",
        ("GmbH", "AG", "KG", "GmbH & Co. KG"),
        (("Berlin", "30"), ("Hamburg", "40"), ("München", "89"), ("Köln", "221"),
         ("Frankfurt am Main", "69"), ("Stuttgart", "711"), ("Düsseldorf", "211"),
         ("Leipzig", "341")),
        ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Lindenallee",
         "Am Marktplatz", "Industriestraße"),
        False, "digits5",
    ),
    Country(
        "GB", "44", 10, ("7",), 10, "co.uk", ("Ltd", "PLC", "LLP"),
        (("London", "20"), ("Manchester", "161"), ("Birmingham", "121"), ("Leeds", "113"),
         ("Glasgow", "141"), ("Bristol", "117")),
        ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "Park Road"),
        True, "uk",
    ),
    Country(
        "US", "1", 10, ("917", "646", "415", "312"), 10, "com", ("Inc.", "LLC", "Corp."),
        (("New York", "212"), ("Chicago", "312"), ("San Francisco", "415"), ("Austin", "512"),
         ("Seattle", "206"), ("Boston", "617"), ("Denver", "303")),
        ("Main Street", "Oak Avenue", "Maple Drive", "Park Avenue", "2nd Street", "Elm Street"),
        True, "digits5",
    ),
    Country(
        "FR", "33", 9, ("6", "7"), 9, "fr", ("SARL", "SAS", "SA"),
        (("Paris", "1"), ("Lyon", "4"), ("Marseille", "4"), ("Toulouse", "5"), ("Nantes", "2"),
         ("Lille", "3")),
        ("rue de la République", "avenue Victor Hugo", "boulevard Voltaire", "rue du Moulin"),
        True, "digits5",
    ),
    Country(
        "NL", "31", 9, ("6",), 9, "nl", ("B.V.", "N.V."),
        (("Amsterdam", "20"), ("Rotterdam", "10"), ("Utrecht", "30"), ("Eindhoven", "40"),
         ("Den Haag", "70")),
        ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein", "Prinsengracht"),
        False, "nl",
    ),
    Country(
        "ES", "34", 9, ("6",), 9, "es", ("S.L.", "S.A."),
        (("Madrid", "91"), ("Barcelona", "93"), ("Valencia", "96"), ("Sevilla", "95")),
        ("Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gracia"),
        False, "digits5",
    ),
)  # fmt: skip

# How often each country above occurs, in the same order.
COUNTRY_WEIGHTS = (30, 20, 25, 10, 10, 5)

# Sales: what deals are about, why they are lost, what is sold.

DEAL_SUBJECTS = (
    "Website relaunch", "CRM rollout", "ERP licences", "Support contract", "Annual renewal",
    "Hardware refresh", "Cloud migration", "Team training", "Consulting project",
    "Data protection audit", "Managed services", "Pilot project", "Seat upgrade",
    "Integration with accounting", "Onboarding package", "Maintenance agreement",
    "Mobile app", "Reporting dashboard", "Second site", "Framework agreement",
)  # fmt: skip

LOST_REASONS = (
    "Price too high", "Went with a competitor", "No budget this year", "Project cancelled",
    "No decision made", "Missing feature", "Timing: asked us to come back next year",
    "Chose to build it in-house", "Contact left the company", "Lost touch",
)  # fmt: skip

CANCEL_REASONS = (
    "Customer withdrew the purchase order", "Ordered twice by mistake",
    "Replaced by a new order with other quantities", "Payment not received",
    "Delivery date could not be met",
)  # fmt: skip

# (sku, name, unit price in minor units, currency, tax rate in basis points, quantity style,
# active); the quantity style says how lines order it: "seats" in whole units, "hours" in
# halves, "once" mostly one.
PRODUCTS = (
    ("LIC-STD", "Standard licence, per seat and year", 24_000, "EUR", 1900, "seats", True),
    ("LIC-PRO", "Professional licence, per seat and year", 48_000, "EUR", 1900, "seats", True),
    ("SUP-BASIC", "Support package Basic, one year", 120_000, "EUR", 1900, "once", True),
    ("SUP-PREM", "Support package Premium, one year", 360_000, "EUR", 1900, "once", True),
    ("CONS-H", "Consulting, per hour", 14_500, "EUR", 1900, "hours", True),
    ("TRAIN-D", "Training day on site", 180_000, "EUR", 1900, "once", True),
    ("ONBOARD", "Onboarding package", 250_000, "EUR", 1900, "once", True),
    ("HW-TERM", "Terminal hardware", 89_900, "EUR", 1900, "seats", True),
    ("LIC-STD-US", "Standard licence, per seat and year (US)", 26_000, "USD", 0, "seats", True),
    ("LIC-PRO-US", "Professional licence, per seat and year (US)", 52_000, "USD", 0, "seats",
     True),
    ("CONS-H-US", "Consulting, per hour (US)", 16_000, "USD", 0, "hours", True),
    ("SUP-PREM-US", "Support package Premium, one year (US)", 390_000, "USD", 0, "once", True),
    ("LIC-LEGACY", "Legacy licence (no longer sold)", 19_900, "EUR", 1900, "seats", False),
)  # fmt: skip

# Service desk

# fmt: off
SERVICE_AGENTS = (  # added to the team when tickets are made, so that there are four
    ("nora.berg", "Nora Berg", "service"),
    ("luca.bianchi", "Luca Bianchi", "service"),
)
TICKET_SUBJECTS = {
    "question": (
        "How do I export my invoices?", "Question about the new price list", "Where is my order?",
        "Can we add more users?", "Opening hours over the holidays", "VAT number on invoices",
        "How to change the billing address", "Delivery time to {city}",
    ),
    "service_request": (
        "Please reset the password for {name}", "Change of contact person", "Add a second delivery address",
        "Cancel the subscription at the end of term", "Send a copy of invoice {number}",
        "Upgrade to the premium plan", "Move the appointment to next week",
    ),
    "incident": (
        "Login fails since this morning", "Error 500 when saving", "Sync stopped working",
        "Reports are empty", "Order {number} stuck in processing", "Emails are not delivered",
        "Slow response times in {city}",
    ),
    "complaint": (
        "Damaged delivery", "Invoice {number} charged twice", "Nobody called back",
        "Wrong items in order {number}", "Unhappy with the installation", "Late delivery again",
    ),
}
TICKET_SENTENCES = (
    "The customer called about this twice already.", "Screenshots are attached to the email.",
    "It started after the last update.", "Several colleagues at the site are affected.",
    "They would like an answer by the end of the week.", "The order was placed through the web shop.",
    "No workaround so far.", "The contract number is in the signature of the email.",
    "They asked for a call back in the afternoon.", "Happened once before, last quarter.",
)
TICKET_REPLIES = (
    "Thank you for your message, we are looking into it.", "Could you send us a screenshot of the error?",
    "We have forwarded this to our technical team.", "The replacement is on its way.",
    "Please try again now; it should work.", "We have corrected the invoice and sent a new copy.",
    "Can you confirm the delivery address?", "We are sorry for the trouble and have credited your account.",
)
TICKET_NOTES = (
    "Checked the logs, nothing unusual.", "Asked the warehouse for the tracking number.",
    "Same issue as last month, see the older ticket.", "Escalated to second level.",
    "Waiting for the supplier.", "Customer is a key account, handle with care.",
)
RESOLUTIONS = (
    "Answered the question.", "Password reset and confirmed by the customer.", "Invoice corrected.",
    "Replacement shipped.", "Fixed by the latest release.", "Configuration changed on our side.",
    "Credit note issued.", "No reply from the customer; closed.", "Duplicate of an earlier request.",
    "Explained the settings; works now.",
)
SATISFACTION_COMMENTS = (
    "Quick and friendly.", "Took too long.", "Problem solved, thanks!", "Had to ask twice.",
    "Very helpful.", "OK.",
)
# fmt: on
