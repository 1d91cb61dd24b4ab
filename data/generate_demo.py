"""Deterministic generator of the fictional "Sceaux Valley" demo territory.

It writes two JSON files:

- the **territory document** (``data/demo/sceaux-valley.json``): the territory, its six
  partners and their offerings, members (fictional residents) and projects with their
  needs (calls for skills), in the shape of ``matching.domain``;
- the **truth** (``data/demo/truth.json``): hidden attributes used to build the texts
  (skill family of each member and need, stage of each project, the offering each
  project really needs), for evaluating a matcher. Truth never comes from the texts.

Every person is fictional: names are a first name and an initial drawn at random,
e-mails use ``example.org``. Partners are real organisations of the support chain, but
their offerings here are illustrative, not their actual terms.

Same seed and sizes give byte-identical files. Run from the repository root::

    .venv/bin/python data/generate_demo.py                   # defaults: 320 members, 64 projects
    .venv/bin/python data/generate_demo.py --members 100000 --projects 20000 --out /tmp/big.json

Import ``generate(members, projects, seed)`` to get ``(territory_document, truth)`` in
memory (tests, benchmarks).
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import json
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMUNES_CSV = HERE / "communes_92.csv"

try:  # run as ``python data/generate_demo.py``: the repository root is not on sys.path
    from matching.domain import Member, Partner, Project, Stage, Territory
except ImportError:  # pragma: no cover - depends on how the script is launched
    sys.path.insert(0, str(HERE.parent))
    from matching.domain import Member, Partner, Project, Stage, Territory

# fmt: off
# --------------------------------------------------------------------------------------
# Territory
# --------------------------------------------------------------------------------------

TERRITORY = {"id": "sceaux-valley", "name": "Sceaux Valley"}

# The eleven towns of Vallée Sud - Grand Paris, around Sceaux.
TERRITORY_COMMUNES = [
    "Sceaux", "Bourg-la-Reine", "Antony", "Fontenay-aux-Roses", "Châtenay-Malabry", "Le Plessis-Robinson", "Bagneux",
    "Clamart", "Châtillon", "Malakoff", "Montrouge",
]

# Where members live (weights): mostly Sceaux and its neighbours, a few from further away.
MEMBER_COMMUNE_WEIGHTS = {
    "Sceaux": 30, "Bourg-la-Reine": 12, "Antony": 13, "Fontenay-aux-Roses": 9, "Châtenay-Malabry": 9,
    "Le Plessis-Robinson": 7, "Bagneux": 5, "Clamart": 5, "Châtillon": 2, "Malakoff": 1.5, "Montrouge": 1.5,
    "Meudon": 1, "Issy-les-Moulineaux": 1, "Cachan": 1, "L'Haÿ-les-Roses": 1, "Paris": 1,
}

PROJECT_COMMUNE_WEIGHTS = {
    "Sceaux": 40, "Bourg-la-Reine": 10, "Antony": 10, "Fontenay-aux-Roses": 8, "Châtenay-Malabry": 8,
    "Le Plessis-Robinson": 6, "Bagneux": 6, "Clamart": 5, "Châtillon": 3, "Malakoff": 2, "Montrouge": 2,
}

# Neighbourhoods of Sceaux used in some project names: (de ..., à ...).
SCEAUX_QUARTIERS = [
    ("des Blagis", "dans le quartier des Blagis"),
    ("de Robinson", "dans le quartier Robinson"),
    ("du centre de Sceaux", "dans le centre de Sceaux"),
]

# National engagement domains (JeVeuxAider.gouv.fr), see shared/vocab/engagement_domains.csv.
CAUSES = [
    "Santé pour tous", "Prévention et protection", "Art et Culture pour tous", "Sport pour tous",
    "Coopération internationale", "Solidarité et Insertion", "Mémoire et citoyenneté", "Éducation pour tous",
    "Protection de la nature", "Bénévolat de compétences",
]

# --------------------------------------------------------------------------------------
# Partners (fixed, hand-written)
# --------------------------------------------------------------------------------------


def _offering(oid, title, text, stages, kind, capacity, requires_legal_structure=False):
    return {
        "id": oid,
        "title": title,
        "text": text,
        "stages": stages,
        "kind": kind,
        "eligibility": {"requires_legal_structure": requires_legal_structure, "communes": [], "causes": []},
        "capacity": capacity,
    }


PARTNERS = [
    {
        "id": "msbm", "name": "My Social Business Model",
        "description": "Programme d'accompagnement qui aide les porteurs de projets à impact social à vérifier "
        "leur modèle économique et à tester leur offre auprès de vrais usagers avant de se lancer.",
        "offerings": [
            _offering(
                "msbm-atelier-idee", "Atelier idée : poser son modèle économique",
                "Un cycle de trois ateliers collectifs pour passer d'une intuition à un projet structuré. "
                "On y clarifie le besoin auquel on répond, le public visé, les ressources nécessaires et qui "
                "paiera quoi. Chaque participant repart avec une première version de son modèle économique "
                "tenant sur une page.",
                ["idee"],
                "mentoring", 15,
            ),
            _offering(
                "msbm-test", "Programme test : expérimenter son offre en conditions réelles",
                "Pendant huit à douze semaines, l'équipe vous aide à concevoir un prototype de votre activité, "
                "à le tester avec de vrais usagers et à mesurer les résultats. Ateliers collectifs, points "
                "individuels et outils d'enquête sont fournis. À la fin, vous savez ce qui fonctionne, à quel "
                "prix et pour qui.",
                ["test"],
                "test", 10,
            ),
        ],
    },
    {
        "id": "banque-postale", "name": "La Banque Postale",
        "description": "Banque publique présente dans chaque commune, qui finance les associations, les "
        "entreprises de l'économie sociale et solidaire et les porteurs de projets aux moyens modestes.",
        "offerings": [
            _offering(
                "banque-postale-pret", "Prêt bancaire pour les structures de l'ESS",
                "Un crédit professionnel pour financer l'équipement, les travaux ou le besoin en fonds de "
                "roulement des associations, coopératives et entreprises solidaires. Le chargé de clientèle "
                "étudie le plan de financement et propose une durée de remboursement adaptée, de deux à sept "
                "ans. La structure doit être déclarée ou immatriculée.",
                ["financement", "lancement"],
                "financing", 25,
                requires_legal_structure=True,
            ),
            _offering(
                "banque-postale-microcredit", "Microcrédit pour démarrer une activité",
                "Un petit prêt de quelques milliers d'euros pour les personnes qui n'ont pas accès au crédit "
                "bancaire classique et veulent créer leur activité. Il s'accompagne d'un suivi par un réseau "
                "d'accompagnement partenaire pendant toute la durée du remboursement.",
                ["financement", "lancement"],
                "financing", 20,
            ),
        ],
    },
    {
        "id": "kisskissbankbank", "name": "KissKissBankBank",
        "description": "Plateforme française de financement participatif qui permet de collecter des "
        "contributions du public, avec des contreparties, pour des projets créatifs, associatifs et solidaires.",
        "offerings": [
            _offering(
                "kisskissbankbank-don", "Campagne de financement participatif avec contreparties",
                "Collectez en ligne auprès de votre entourage et du grand public, en trente à soixante jours, "
                "avec des contreparties pour remercier les contributeurs. Un coach aide à fixer l'objectif, à "
                "préparer la page du projet et à animer la communauté. La campagne fait aussi connaître le "
                "projet bien au-delà du quartier.",
                ["financement"],
                "financing", 30,
            ),
            _offering(
                "kisskissbankbank-prevente", "Prévente en ligne pour tester la demande",
                "Proposez vos premiers produits ou services en précommande : si l'objectif est atteint, la "
                "première série est financée et la demande est prouvée. Une bonne façon de vérifier que le "
                "public est au rendez-vous avant d'investir.",
                ["test", "financement"],
                "financing", 20,
            ),
        ],
    },
    {
        "id": "hdsi", "name": "Hauts-de-Seine Initiative",
        "description": "Association du réseau Initiative France qui soutient la création d'activités dans les "
        "Hauts-de-Seine par des prêts d'honneur, des garanties bancaires et le parrainage de bénévoles.",
        "offerings": [
            _offering(
                "hdsi-garantie", "Contre-garantie bancaire",
                "Quand la banque hésite ou réclame une caution personnelle, Hauts-de-Seine Initiative peut se "
                "porter garant auprès de votre banque sur une partie du prêt. Cette contre-garantie bancaire "
                "sécurise l'emprunt et évite aux fondateurs d'engager leurs biens personnels. Elle s'adresse "
                "aux structures déclarées ou immatriculées.",
                ["financement"],
                "guarantee", 12,
                requires_legal_structure=True,
            ),
            _offering(
                "hdsi-pret-honneur", "Prêt d'honneur à taux zéro",
                "Un prêt personnel sans intérêt ni garantie, accordé aux fondateurs après passage devant un "
                "comité d'agrément, pour renforcer l'apport et déclencher un prêt bancaire. Il se rembourse "
                "sur deux à cinq ans et s'accompagne du parrainage d'un chef d'entreprise bénévole.",
                ["financement", "lancement"],
                "financing", 15,
                requires_legal_structure=True,
            ),
        ],
    },
    {
        "id": "atelier-idf", "name": "L'Atelier Île-de-France",
        "description": "Centre de ressources régional de l'économie sociale et solidaire : il informe, forme "
        "et accompagne celles et ceux qui veulent entreprendre autrement en Île-de-France.",
        "offerings": [
            _offering(
                "atelier-idf-incubation", "Parcours d'incubation « Entreprendre dans l'ESS »",
                "Un parcours collectif de six mois pour transformer une idée en projet d'économie sociale et "
                "solidaire : modèle économique, choix du statut, gouvernance, premiers partenaires. Ateliers "
                "mensuels, rendez-vous individuels et mise en réseau avec d'autres porteurs de projets franciliens.",
                ["idee", "test"],
                "training", 20,
            ),
            _offering(
                "atelier-idf-formation", "Formations courtes pour les dirigeants de structures de l'ESS",
                "Des modules d'une journée pour les équipes qui démarrent leur activité : devenir employeur, "
                "piloter son budget, animer une gouvernance partagée, répondre à la commande publique. Les "
                "formations ont lieu à Paris ou en ligne, en petits groupes.",
                ["lancement"],
                "training", 30,
            ),
        ],
    },
    {
        "id": "sceaux-smart", "name": "Sceaux Smart",
        "description": "Espace de coworking et lieu d'innovation au cœur de Sceaux, qui accueille indépendants, "
        "jeunes entreprises et projets associatifs du territoire.",
        "offerings": [
            _offering(
                "sceaux-smart-bureaux", "Postes de travail et bureaux en coworking",
                "Des postes en open space ou de petits bureaux fermés, à la journée, au mois ou à l'année, à "
                "quelques minutes du RER B. Internet, imprimante, cuisine et domiciliation sont compris, et "
                "les projets de l'économie sociale bénéficient d'un tarif adapté. C'est aussi une communauté "
                "d'entrepreneurs pour échanger et s'entraider.",
                ["lancement", "croissance"],
                "space", 12,
            ),
            _offering(
                "sceaux-smart-salle", "Salle de réunion et d'atelier à Sceaux",
                "Une salle de trente places équipée d'un écran et d'un tableau, à louer à l'heure ou à la "
                "demi-journée, en semaine comme en soirée. Idéale pour tenir une assemblée générale, animer "
                "un atelier test ou présenter son projet à des partenaires.",
                ["test", "lancement", "croissance"],
                "space", 8,
            ),
        ],
    },
]

# --------------------------------------------------------------------------------------
# Skill families: member phrasings (skills, bio, tags) and need phrasings (holder's side)
# --------------------------------------------------------------------------------------
# Gendered endings are written as {e} {ne} {trice} {euse} {ere} {x} {le} {ve} {fe}.

GENDER_FORMS = {
    "F": {"e": "e", "ne": "ne", "trice": "trice", "euse": "euse", "ere": "ère", "x": "se", "le": "le", "ve": "ve", "fe": "fe"},
    "M": {"e": "", "ne": "", "trice": "teur", "euse": "eur", "ere": "er", "x": "x", "le": "", "ve": "f", "fe": ""},
}

FAMILIES: dict[str, dict] = {
    "compta": {
        "label": "Comptabilité et trésorerie", "remote": True,
        "causes": ["Bénévolat de compétences", "Solidarité et Insertion"],
        "tags": [
            "comptabilité", "trésorerie", "paie", "budget prévisionnel", "gestion financière", "Excel",
            "Réaliser des opérations comptables", "Gérer une caisse",
        ],
        "skills": [
            "Comptable à la retraite, je maîtrise la tenue des comptes et les clôtures annuelles.",
            "Expert-comptable en activité, disponible le soir pour des associations.",
            "J'ai tenu les comptes du club de foot pendant dix ans.",
            "Trésori{ere} d'une association de parents d'élèves, à l'aise avec les rapprochements bancaires.",
            "Compta générale, paie, déclarations sociales : c'est mon métier depuis vingt ans.",
            "Contrôl{euse} de gestion dans un grand groupe, j'aime les tableaux Excel bien tenus.",
            "Je connais bien la comptabilité des associations loi 1901 et le plan comptable associatif.",
            "Ancien{ne} responsable comptable d'une PME du bâtiment, je sais monter un prévisionnel.",
            "Gestion de trésorerie, budgets prévisionnels, suivi financier des subventions.",
            "Je fais la compta de mon entreprise de plomberie depuis quinze ans, avec un logiciel simple.",
        ],
        "bios": [
            "Comptable de métier, j'ai envie de mettre mes compétences au service d'un projet de quartier.",
            "Passionné{e} de chiffres, j'aime quand les comptes tombent juste.",
            "Je travaille dans un cabinet d'expertise comptable à Paris.",
            "Ancien{ne} conseill{ere} bancaire, les bilans ne me font pas peur.",
            "J'ai été trésori{ere} de plusieurs associations sportives.",
            "Mon métier, c'est la gestion ; j'aimerais qu'il serve à autre chose qu'à mon employeur.",
        ],
        "needs": [
            ("Remettre de l'ordre dans nos finances",
             "Les reçus et les factures s'entassent dans une boîte à chaussures : il faudrait tout classer et "
             "suivre clairement les entrées et sorties d'argent."),
            ("Préparer le bilan annuel pour l'assemblée générale",
             "Nous cherchons quelqu'un pour arrêter les chiffres de l'année et les présenter simplement aux adhérents."),
            ("Construire notre budget sur trois ans",
             "Avant de rencontrer nos partenaires, il nous faut un prévisionnel crédible, avec le seuil à partir "
             "duquel l'activité tient debout."),
            ("Une personne de confiance pour gérer l'argent du bureau",
             "Le bureau cherche quelqu'un pour suivre le compte bancaire, encaisser les cotisations et rembourser "
             "les frais des bénévoles."),
            ("Établir les bulletins de salaire de notre première embauche",
             "Nous recrutons une personne à mi-temps et ne savons pas faire les bulletins ni les déclarations à l'Urssaf."),
            ("Savoir chaque mois où part l'argent",
             "Un petit tableau de bord mensuel nous aiderait à voir combien de mois nous pouvons tenir et où "
             "réduire les dépenses."),
            ("Relire nos chiffres avant un dossier important",
             "Un financeur nous demande un état des recettes et des dépenses : nous aimerions qu'un œil averti "
             "vérifie tout avant l'envoi."),
        ],
    },
    "juridique": {
        "label": "Droit et statuts associatifs", "remote": True,
        "causes": ["Bénévolat de compétences", "Mémoire et citoyenneté"],
        "tags": ["droit des associations", "statuts", "droit social", "RGPD", "contrats", "baux commerciaux"],
        "skills": [
            "Juriste en droit des associations, je peux relire ou rédiger des statuts.",
            "Avocat{e} en droit social, je donne un coup de main bénévole sur les contrats de travail.",
            "Notaire à la retraite, à l'aise avec les baux, les SCI et les actes de cession.",
            "J'ai créé trois associations loi 1901 et je connais par cœur les démarches en préfecture.",
            "Droit des sociétés, SCIC, SCOP : je connais bien les statuts coopératifs.",
            "Étudiant{e} en master de droit à la faculté Jean-Monnet, je m'intéresse à l'économie sociale et solidaire.",
            "Je rédige des conventions de partenariat et des règlements intérieurs dans mon travail.",
            "Responsable juridique dans une mutuelle, je peux conseiller sur la conformité RGPD.",
            "Droit immobilier et baux commerciaux, une quinzaine d'années d'expérience.",
        ],
        "bios": [
            "Juriste de formation, j'ai envie d'aider des projets locaux à bien démarrer.",
            "Je travaille dans un cabinet d'avocats à La Défense et je cherche un engagement près de chez moi.",
            "Retraité{e} de la fonction publique, j'ai passé ma carrière dans un service juridique.",
            "J'ai présidé une association pendant huit ans, j'ai appris le droit sur le tas.",
            "Les textes de loi ne me font pas peur, j'aime rendre les choses claires.",
            "Bénévole dans une permanence d'accès au droit le samedi matin.",
        ],
        "needs": [
            ("Écrire les règles de fonctionnement de notre collectif",
             "Nous voulons passer du groupe d'amis à une vraie structure et avons besoin d'aide pour rédiger les "
             "textes fondateurs et choisir la bonne forme."),
            ("Choisir entre association et coopérative",
             "Nous hésitons entre une association et une SCIC : qui pourrait nous expliquer les conséquences sur "
             "la gouvernance et l'argent ?"),
            ("Relire le bail de notre futur local",
             "Le propriétaire nous propose un engagement de trois ans et nous voudrions être sûrs de ne rien signer "
             "d'imprudent."),
            ("Sécuriser notre premier recrutement",
             "Nous allons embaucher une animatrice et voulons un contrat en règle, avec la bonne convention collective."),
            ("Protéger les données de nos adhérents",
             "Nous gardons les coordonnées de 300 familles dans un tableur et ne savons pas ce que la loi nous "
             "impose pour les protéger."),
            ("Préparer une convention avec la mairie",
             "La ville est prête à nous prêter une salle et nous devons rédiger l'accord qui fixe les obligations de chacun."),
            ("Modifier nos textes avant l'assemblée générale",
             "Il faut ajouter un collège de salariés et élargir notre objet : nous cherchons quelqu'un qui sache "
             "formuler cela proprement."),
        ],
    },
    "communication": {
        "label": "Communication et réseaux sociaux", "remote": True,
        "causes": ["Bénévolat de compétences", "Art et Culture pour tous"],
        "tags": [
            "communication", "réseaux sociaux", "rédaction", "relations presse", "newsletter",
            "Mettre en oeuvre des actions de communication",
        ],
        "skills": [
            "Chargé{e} de communication, j'anime des comptes Instagram et LinkedIn au quotidien.",
            "Community manager freelance, je sais faire vivre une page Facebook d'association.",
            "Je rédige des communiqués de presse et j'ai un bon carnet d'adresses dans la presse locale.",
            "Réseaux sociaux, newsletters, plan de communication : c'est mon métier.",
            "Ancien{ne} journaliste, j'écris vite et clairement.",
            "J'ai géré la communication de la kermesse de l'école pendant cinq ans.",
            "Marketing digital, stratégie de contenus, un peu de référencement.",
            "Je sais parler aux médias et préparer une conférence de presse.",
            "Relations publiques et communication institutionnelle dans une collectivité.",
        ],
        "bios": [
            "Je travaille dans une agence de communication à Boulogne.",
            "Accro aux réseaux sociaux, je publie tous les jours.",
            "Ancien{ne} journaliste en presse régionale, je garde le goût des belles histoires locales.",
            "Je m'occupe déjà de la newsletter de mon club de randonnée.",
            "J'adore raconter ce qui se passe dans le quartier.",
            "Mon métier, c'est de faire connaître des projets : autant le faire pour des causes utiles.",
        ],
        "needs": [
            ("Faire connaître le projet au-delà du cercle des amis",
             "Nous sommes invisibles : il faudrait quelqu'un pour raconter ce que nous faisons et toucher les "
             "habitants qui ne nous connaissent pas encore."),
            ("Faire vivre nos comptes en ligne chaque semaine",
             "Nos publications sont rares et peu lues : nous cherchons une personne pour partager régulièrement "
             "des photos et des nouvelles du projet."),
            ("Obtenir un article dans le journal local",
             "Nous aimerions que le magazine municipal ou un quotidien régional parle de nous, sans savoir par où commencer."),
            ("Écrire une lettre d'information mensuelle",
             "Une fois par mois, nous voudrions donner des nouvelles aux adhérents et aux donateurs, avec un ton chaleureux."),
            ("Trouver les mots justes pour notre appel aux dons",
             "Avant de nous lancer, il nous faut un message clair et un calendrier de publications."),
            ("Toucher les familles des quartiers éloignés",
             "Nos affichettes ne suffisent pas : comment faire venir aux ateliers les familles qui ne passent "
             "jamais par le centre-ville ?"),
        ],
    },
    "graphisme": {
        "label": "Graphisme et design", "remote": True,
        "causes": ["Art et Culture pour tous", "Bénévolat de compétences"],
        "tags": [
            "graphisme", "logo", "mise en page", "illustration", "design", "identité visuelle",
            "Concevoir des supports de communication et d'image",
        ],
        "skills": [
            "Graphiste indépendant{e}, je fais des logos, des affiches et des chartes graphiques.",
            "Je maîtrise Illustrator, InDesign et Photoshop.", "Direc{trice} artistique en agence pendant quinze ans.",
            "Illustra{trice} jeunesse, j'aime dessiner pour les causes qui me touchent.",
            "Design d'identité visuelle, mise en page de brochures et de rapports annuels.",
            "Je dessine des affiches de concerts pour des amis depuis des années.",
            "Designer UX/UI, je conçois des interfaces simples et accessibles.",
            "Étudiant{e} en école de design graphique, je cherche des projets concrets.",
            "Typographie et sérigraphie dans mon petit atelier.",
        ],
        "bios": [
            "Graphiste de métier, je dessine aussi pour le plaisir.",
            "J'ai toujours un carnet de croquis dans la poche.",
            "Formé{e} aux Arts déco, j'ai longtemps travaillé dans l'édition.",
            "Les belles affiches me rendent heureu{x}.",
            "J'aime donner une identité visuelle aux petites structures qui n'en ont pas.",
            "Je travaille en freelance et j'ai des creux dans mon planning.",
        ],
        "needs": [
            ("Donner une image reconnaissable au projet",
             "Nous n'avons qu'un nom écrit en Comic Sans : il nous faudrait un emblème, des couleurs et une "
             "typo qui nous ressemblent."),
            ("Concevoir le visuel de notre fête de quartier",
             "Il nous faut un joli support à coller chez les commerçants et à imprimer en tracts, prêt trois "
             "semaines avant la date."),
            ("Rendre notre plaquette plus attrayante",
             "Notre document de présentation fait douze pages de texte serré : nous voudrions quelque chose "
             "d'aéré, avec des pictogrammes et des schémas."),
            ("Imaginer la signalétique du lieu",
             "Les visiteurs se perdent entre l'atelier et la salle : il faudrait des panneaux clairs et jolis."),
            ("Quelqu'un qui sache dessiner pour un livret",
             "Nous préparons un petit livret sur le tri pour les écoles et il manque les images."),
            ("Harmoniser nos supports imprimés",
             "Cartes de membre, tracts, kakémono : rien n'est cohérent et cela fait amateur."),
        ],
    },
    "informatique": {
        "label": "Développement web et informatique", "remote": True,
        "causes": ["Bénévolat de compétences", "Éducation pour tous"],
        "tags": ["développement web", "WordPress", "Python", "bases de données", "informatique", "administration système"],
        "skills": [
            "Développ{euse} web full-stack, Python et JavaScript.",
            "Je crée des sites WordPress pour des artisans et des associations.",
            "Administra{trice} systèmes et réseaux, je peux installer un serveur ou un NAS.",
            "Ingénieur{e} logiciel, je connais bien les bases de données.",
            "Je bidouille des sites web depuis le lycée : HTML, CSS, un peu de PHP.",
            "Développement d'applications mobiles en React Native.",
            "Data analyst, je fais parler les tableurs et les bases de données.",
            "Informaticien{ne} retraité{e}, j'ai programmé toute ma vie.",
            "Je sais monter une boutique en ligne avec paiement sécurisé.",
        ],
        "bios": [
            "Je code pour le travail et pour le plaisir.",
            "Informaticien{ne} dans une grande banque, je cherche du sens en dehors du bureau.",
            "Geek assumé{e}, j'ai toujours un Raspberry Pi qui traîne.",
            "Je travaille dans une start-up du plateau de Saclay.",
            "J'aime automatiser les tâches ennuyeuses pour que les gens gagnent du temps.",
            "Étudiant{e} en informatique, je veux me faire la main sur de vrais projets.",
        ],
        "needs": [
            ("Exister sur internet",
             "Il faudrait quelques pages simples pour présenter nos horaires, nos actions et un formulaire de contact."),
            ("Un outil pour gérer les réservations",
             "Les inscriptions aux ateliers se font par SMS et nous nous y perdons : nous rêvons d'un système où "
             "chacun réserve son créneau lui-même."),
            ("Vendre nos produits sur internet",
             "Nous voudrions proposer nos paniers et nos objets restaurés à la vente, avec paiement par carte."),
            ("Remettre d'aplomb nos ordinateurs et le partage de fichiers",
             "Nos trois postes sont lents, les sauvegardes n'existent pas et les documents sont éparpillés sur des clés USB."),
            ("Automatiser le suivi des adhésions",
             "Chaque mois, nous recopions à la main les adhésions d'un formulaire vers un tableur : il doit bien "
             "exister plus simple."),
            ("Créer une carte interactive des lieux du réseau",
             "Nous aimerions afficher une carte des composteurs et des jardins que les bénévoles puissent mettre "
             "à jour facilement."),
        ],
    },
    "photo_video": {
        "label": "Photo et vidéo", "remote": False,
        "causes": ["Art et Culture pour tous", "Mémoire et citoyenneté"],
        "tags": ["photographie", "montage vidéo", "tournage", "podcast", "retouche photo", "prise de son"],
        "skills": [
            "Photographe amateur depuis vingt ans, surtout portrait et reportage.",
            "Vidéaste, je tourne et monte des films courts avec Premiere Pro.",
            "Mont{euse} vidéo professionnel{le} pour la télévision.", "Je fais des photos de mariage le week-end.",
            "Drone, stabilisateur, micro-cravate : j'ai tout le matériel pour un tournage léger.",
            "Je réalise des podcasts et je sais faire une prise de son propre.",
            "Retouche photo sous Lightroom, tirages, expositions.", "J'ai réalisé plusieurs documentaires associatifs.",
            "Cadr{euse} sur des tournages de fiction et de publicité.",
        ],
        "bios": [
            "La photo, c'est ma respiration depuis l'adolescence.", "Je ne sors jamais sans mon appareil.",
            "Je travaille dans l'audiovisuel et j'ai envie de filmer des histoires de quartier.",
            "J'ai exposé mes photos à la médiathèque de ma ville.",
            "Passionné{e} d'image, je monte des vidéos de voyage pour ma famille.",
            "J'aime garder une trace des moments collectifs.",
        ],
        "needs": [
            ("Garder des images de nos ateliers",
             "Nous aimerions de beaux clichés des ateliers pour notre rapport d'activité et pour remercier les financeurs."),
            ("Raconter le projet en trois minutes",
             "Un petit reportage sur place, avec quelques témoignages d'habitants, nous aiderait énormément pour convaincre."),
            ("Immortaliser la fête du week-end",
             "Pendant les deux jours, il faudrait quelqu'un pour saisir l'ambiance, les concerts et les bénévoles."),
            ("Enregistrer la parole des anciens du quartier",
             "Nous recueillons les souvenirs des habitants et voulons les enregistrer proprement pour une exposition sonore."),
            ("Réaliser des portraits de nos bénévoles",
             "Pour la campagne, nous aimerions une série de portraits sympas des gens qui font vivre le lieu."),
            ("Des tutoriels courts pour nos réparations",
             "Nous voudrions diffuser de petites séquences qui montrent comment changer une chambre à air ou "
             "recoudre un bouton."),
        ],
    },
    "jardinage": {
        "label": "Jardinage et permaculture", "remote": False,
        "causes": ["Protection de la nature"],
        "tags": ["jardinage", "permaculture", "potager", "compost", "taille d'arbres", "apiculture"],
        "skills": [
            "Jardini{ere} amateur, j'ai un potager de 200 m² depuis quinze ans.",
            "Formé{e} à la permaculture, je sais concevoir un jardin en buttes.",
            "Paysagiste de métier, je connais bien les plantes d'Île-de-France.",
            "Je fais mes semis, mes boutures et mon compost depuis toujours.",
            "Ancien{ne} maraîch{ere}, je sais organiser des rotations de cultures.",
            "Taille des arbres fruitiers, greffe, entretien des haies.",
            "J'anime des ateliers de jardinage au naturel pour les enfants.",
            "Je connais les plantes mellifères et je m'occupe de deux ruches.",
            "Botaniste de formation, je reconnais la plupart des plantes sauvages.",
        ],
        "bios": [
            "J'ai la main verte, paraît-il.", "Mon balcon déborde de tomates chaque été.",
            "Enfant d'agriculteurs, la terre, je connais.", "Je passe mes week-ends au jardin familial.",
            "J'ai suivi un cours de permaculture et j'ai envie de le mettre en pratique.",
            "Rien ne me détend plus que de désherber en écoutant la radio.",
        ],
        "needs": [
            ("Faire pousser des légumes sur notre parcelle",
             "La mairie nous confie un terrain de 300 m² et personne dans l'équipe ne sait quoi planter ni quand."),
            ("Guider les familles pour les plantations du printemps",
             "Nous cherchons une personne qui montre aux enfants comment semer, arroser et récolter sans produits chimiques."),
            ("Transformer une cour bétonnée en espace cultivé",
             "Nous avons besoin de quelqu'un qui sache organiser des bacs et choisir les cultures adaptées."),
            ("Entretenir les arbres fruitiers du verger",
             "Une dizaine de pommiers et de poiriers n'ont pas été taillés depuis des années."),
            ("Transformer nos épluchures en terreau",
             "Nos restes de légumes finissent à la poubelle : il faudrait installer un bac et apprendre à le faire "
             "fonctionner."),
            ("Accueillir des abeilles sur le toit", "Nous aimerions installer une ruche et ne savons pas par où commencer."),
        ],
    },
    "bricolage": {
        "label": "Bricolage, menuiserie et réparation", "remote": False,
        "causes": ["Protection de la nature", "Solidarité et Insertion"],
        "tags": [
            "bricolage", "menuiserie", "électricité", "réparation", "peinture", "petits travaux",
            "Réparer un équipement, une machine, une installation",
        ],
        "skills": [
            "Menuisi{ere} à la retraite, j'ai un atelier bien équipé.",
            "Bricol{euse} du dimanche, je répare un peu tout : électroménager, lampes, meubles.",
            "Électricien{ne} de métier, habilité{e} pour les petits travaux.",
            "Je sais souder, poncer, peindre, poser des plaques de plâtre.",
            "Réparation de petit électroménager : je fréquente les repair cafés depuis des années.",
            "Plomberie, carrelage, peinture : j'ai rénové ma maison de A à Z.",
            "Ébéniste, je restaure des meubles anciens.", "Je fabrique des meubles en bois de palette.",
            "Technicien{ne} de maintenance, je diagnostique vite une panne.",
        ],
        "bios": [
            "J'ai toujours une caisse à outils dans le coffre.", "Je déteste jeter ce qui peut être réparé.",
            "Retraité{e} du bâtiment, j'ai encore de bonnes mains.",
            "Mon garage est devenu un atelier, au grand désespoir de ma famille.",
            "J'aime comprendre comment les objets fonctionnent.",
            "J'ai construit la cabane de mes enfants et la moitié de mes meubles.",
        ],
        "needs": [
            ("Construire le mobilier de notre local",
             "Nous avons récupéré des planches et des tréteaux et voudrions en faire des étagères, un comptoir et des bancs."),
            ("Remettre en état les objets déposés",
             "Grille-pain, lampes, chaises bancales : nos dons ont besoin d'une seconde vie avant d'être revendus."),
            ("Aider les visiteurs à remettre en marche leurs appareils",
             "Un samedi par mois, les habitants viennent avec un objet en panne et nous manquons de personnes "
             "habiles de leurs mains."),
            ("Rafraîchir la salle avant l'ouverture",
             "Murs à repeindre, prises à changer, une porte qui ferme mal : il reste quelques jours de travaux."),
            ("Fabriquer des boîtes à livres",
             "Nous voulons en installer trois dans le quartier et cherchons quelqu'un pour les concevoir et les assembler."),
            ("Équiper un atelier partagé en toute sécurité",
             "Nous avons une pièce vide et voulons y installer établis et outils pour des ateliers ouverts à tous."),
        ],
    },
    "cuisine": {
        "label": "Cuisine et restauration", "remote": False,
        "causes": ["Solidarité et Insertion", "Santé pour tous"],
        "tags": [
            "cuisine", "pâtisserie", "restauration collective", "hygiène alimentaire", "traiteur", "anti-gaspillage",
            "Préparer des plats culinaires",
        ],
        "skills": [
            "Cuisini{ere} en restauration collective, je connais les normes HACCP.",
            "Ancien{ne} restaura{trice}, j'ai tenu un bistrot pendant douze ans.",
            "Je cuisine pour cinquante personnes sans stress.",
            "Pâtissi{ere} amateur, je fais les gâteaux de toutes les fêtes de l'école.",
            "CAP cuisine, je travaille chez un traiteur.",
            "Cuisine végétarienne et anti-gaspi : j'adore accommoder les restes.",
            "Je connais les règles d'hygiène et j'ai mon permis d'exploitation.",
            "Spécialités libanaises et méditerranéennes, je donne des cours à domicile.",
            "J'ai géré la cantine d'un centre de loisirs.",
        ],
        "bios": [
            "La cuisine, c'est ma façon de rassembler les gens.", "Chez moi, il y a toujours une casserole sur le feu.",
            "J'ai grandi dans le restaurant de mes parents.",
            "Je cuisine avec ce qu'il reste dans le frigo, et ça plaît.",
            "Passionné{e} de pâtisserie, je teste une recette par semaine.",
            "J'aime nourrir les autres, c'est plus fort que moi.",
        ],
        "needs": [
            ("Préparer le repas partagé du dimanche",
             "Une fois par mois, nous servons un déjeuner à une soixantaine de voisins et il faut quelqu'un pour "
             "tenir les fourneaux."),
            ("Mettre au point une carte simple et bon marché",
             "Notre futur café associatif doit proposer quelques plats du jour avec des produits locaux et un prix juste."),
            ("Former les bénévoles aux règles sanitaires",
             "Avant d'accueillir le public, nous devons apprendre à respecter la chaîne du froid et la traçabilité "
             "des produits."),
            ("Transformer les invendus du marché",
             "Les maraîchers nous donnent leurs surplus du samedi et nous voulons en faire des soupes et des conserves."),
            ("Animer des ateliers « bien manger petit budget »",
             "Des familles aimeraient apprendre à préparer des repas équilibrés avec peu de moyens."),
            ("Piloter la production des goûters de la fête",
             "Nous prévoyons quatre cents parts de gâteaux et de crêpes sur le week-end."),
        ],
    },
    "enfance": {
        "label": "Animation enfants et soutien scolaire", "remote": False,
        "causes": ["Éducation pour tous"],
        "tags": [
            "soutien scolaire", "animation", "BAFA", "aide aux devoirs", "petite enfance", "pédagogie",
            "Enseigner, développer des compétences",
        ],
        "skills": [
            "Professeur{e} des écoles, j'aide aux devoirs en maths et en français.",
            "Anima{trice} BAFA, j'ai encadré des colonies pendant plusieurs étés.",
            "Éduca{trice} spécialisé{e}, à l'aise avec les ados en difficulté.",
            "Je donne des cours particuliers de maths et de physique au collège et au lycée.",
            "Étudiant{e} en master MEEF, je prépare le concours de professeur des écoles.",
            "J'anime des ateliers lecture et contes pour les tout-petits.",
            "Aide aux devoirs, méthodologie, préparation au brevet.", "Ancien{ne} direc{trice} de centre de loisirs.",
            "Je joue aux jeux de société avec les enfants depuis toujours, je suis incollable sur les règles.",
        ],
        "bios": [
            "Parent de trois enfants, je sais ce que sont les devoirs du soir.",
            "J'ai enseigné trente ans à l'école élémentaire.", "Les enfants me font rire et me donnent de l'énergie.",
            "J'ai passé mon BAFA à dix-sept ans et je n'ai jamais arrêté d'animer.",
            "Je crois beaucoup à l'égalité des chances dès le plus jeune âge.", "Grand-parent disponible le mercredi.",
        ],
        "needs": [
            ("Accompagner des collégiens le soir",
             "Après les cours, une dizaine de jeunes du quartier ont besoin d'un adulte patient pour reprendre les "
             "leçons et s'organiser."),
            ("Encadrer les mercredis après-midi",
             "Nous accueillons des petits de 6 à 10 ans et cherchons quelqu'un qui sache proposer des jeux et tenir un groupe."),
            ("Faire réviser des élèves de troisième",
             "Quelques élèves ont besoin de révisions régulières en maths et en français d'ici juin."),
            ("Lire des histoires aux plus jeunes",
             "Un samedi sur deux, la bibliothèque de rue accueille des bambins et leurs parents."),
            ("Aider les lycéens à trouver leur méthode",
             "Nos jeunes décrochent faute de méthode : apprendre à réviser, à prendre des notes, à gérer le stress."),
            ("Imaginer des activités pour les vacances",
             "Pendant l'été, nous voulons proposer une semaine d'activités aux gamins qui ne partent pas."),
        ],
    },
    "langues": {
        "label": "Langues, traduction et FLE", "remote": True,
        "causes": ["Éducation pour tous", "Solidarité et Insertion", "Coopération internationale"],
        "tags": ["FLE", "traduction", "anglais", "alphabétisation", "interprétariat", "langue des signes"],
        "skills": [
            "Professeur{e} de FLE, j'enseigne le français aux adultes étrangers.",
            "Traduc{trice} anglais-français, je travaille aussi depuis l'espagnol.",
            "Bilingue arabe-français, je peux accompagner des démarches et traduire à l'oral.",
            "J'ai vécu dix ans en Allemagne, je parle couramment allemand.",
            "Interprète en langue des signes française.",
            "J'anime un groupe de conversation en anglais à la médiathèque.",
            "Je parle portugais, espagnol et italien.",
            "Alphabétisation des adultes : j'ai suivi une formation et donné des cours pendant trois ans.",
            "Formé{e} à l'enseignement du français langue étrangère, du niveau A1 au B2.",
        ],
        "bios": [
            "J'ai grandi entre deux langues et j'aime faire le pont.",
            "Retraité{e} de l'Éducation nationale, j'enseignais l'anglais.",
            "J'ai beaucoup voyagé et je sais ce que c'est de ne pas comprendre.",
            "Arrivé{e} en France il y a quinze ans, j'ai été beaucoup aidé{e} par des bénévoles.",
            "Les langues, c'est ma passion depuis le lycée.",
            "Je travaille dans une entreprise internationale et je jongle entre plusieurs langues.",
        ],
        "needs": [
            ("Aider des adultes nouvellement arrivés à se débrouiller au quotidien",
             "Des familles réfugiées voudraient pouvoir prendre rendez-vous chez le médecin ou parler avec "
             "l'institutrice sans aide."),
            ("Rendre nos documents lisibles par tous",
             "Nos fiches d'inscription et le règlement du lieu devraient exister en arabe, en tamoul et en dari."),
            ("Accompagner des parents lors des rendez-vous",
             "Certaines familles ne comprennent pas les courriers de l'école ou de la CAF : il faudrait quelqu'un "
             "pour expliquer et servir d'intermédiaire."),
            ("Lancer un atelier d'échange autour d'un café",
             "Une fois par semaine, nous voudrions réunir habitants et nouveaux arrivants pour discuter ensemble."),
            ("Faire le lien avec nos partenaires étrangers",
             "Une délégation de notre ville jumelle vient en mai et nous avons besoin de quelqu'un pour faciliter "
             "les échanges pendant les visites."),
            ("Apprendre à lire et écrire à des adultes",
             "Plusieurs mamans du quartier n'ont jamais été à l'école et souhaitent pouvoir déchiffrer un courrier."),
        ],
    },
    "financements": {
        "label": "Recherche de financements et subventions", "remote": True,
        "causes": ["Bénévolat de compétences", "Solidarité et Insertion"],
        "tags": ["subventions", "mécénat", "appels à projets", "collecte de fonds", "partenariats", "crowdfunding"],
        "skills": [
            "Chargé{e} de mécénat dans une fondation, je connais bien les appels à projets.",
            "J'ai monté une vingtaine de dossiers de subvention pour des associations culturelles.",
            "Responsable de la collecte de fonds dans une ONG pendant dix ans.",
            "Je sais répondre aux appels à projets de la Région, du Département et des fondations.",
            "Mécénat d'entreprise, partenariats, crowdfunding.",
            "Ancien{ne} agent{e} de collectivité, j'instruisais des demandes de subventions.",
            "Recherche de financements publics et privés pour l'économie sociale et solidaire.",
            "Je rédige des dossiers FDVA et des demandes de fonds européens.",
            "Levée de fonds, relation donateurs, campagnes d'appel à dons.",
        ],
        "bios": [
            "J'ai travaillé quinze ans dans une fondation d'entreprise.",
            "Trouver de l'argent pour les bonnes causes, c'est mon métier.",
            "J'aime convaincre, et j'ai de la patience pour les formulaires.",
            "Je connais le monde des fondations de l'intérieur.",
            "J'ai aidé l'association de mon quartier à obtenir sa première subvention.",
            "Je travaille dans une ONG internationale.",
        ],
        "needs": [
            ("Trouver des soutiens pour l'an prochain",
             "Notre budget repose sur une seule aide municipale : nous voudrions diversifier nos ressources "
             "auprès de la Région, d'entreprises ou de fondations."),
            ("Monter le dossier pour le Département",
             "Un guichet du Département ferme dans six semaines et nous ne savons pas rédiger ce genre de demande."),
            ("Convaincre des entreprises du secteur de nous aider",
             "Des entreprises locales pourraient nous soutenir en argent ou en matériel, encore faut-il savoir les approcher."),
            ("Repérer les aides auxquelles nous avons droit",
             "Nous entendons parler de plein de dispositifs pour les associations sans savoir lesquels nous concernent."),
            ("Écrire une candidature solide pour une fondation",
             "Une fondation nationale soutient l'alimentation durable : il faut présenter notre action de façon "
             "convaincante avant la date limite."),
            ("Fidéliser nos donateurs",
             "Nous avons une centaine de donateurs ponctuels et voudrions les transformer en soutiens réguliers."),
        ],
    },
    "gestion_projet": {
        "label": "Gestion de projet et coordination", "remote": True,
        "causes": ["Bénévolat de compétences"],
        "tags": [
            "gestion de projet", "coordination", "planification", "animation de réunions", "gouvernance partagée",
            "méthodes agiles", "Préparer et animer une réunion, un groupe de travail, un atelier",
        ],
        "skills": [
            "Chef{fe} de projet dans l'industrie, habitué{e} aux plannings serrés.",
            "Coordina{trice} d'équipes bénévoles depuis plusieurs années.",
            "Gestion de projet, méthodes agiles, animation de réunions.",
            "Consultant{e} en organisation, je sais remettre de l'ordre dans un projet qui part dans tous les sens.",
            "J'ai piloté l'ouverture de plusieurs magasins, du chantier à l'inauguration.",
            "Facilita{trice} en intelligence collective, j'anime des ateliers de gouvernance partagée.",
            "Certifié{e} PMP, vingt ans de pilotage de projets.",
            "Planning, budget, suivi des tâches : j'adore les rétroplannings.",
            "Ancien{ne} direc{trice} d'association, j'ai coordonné une équipe de douze salariés.",
        ],
        "bios": [
            "J'aime que les choses avancent et que chacun sache ce qu'il a à faire.",
            "Manager dans une grande entreprise, je cherche à être utile autrement.",
            "Je suis du genre à faire des listes et à les cocher.",
            "J'ai organisé le déménagement de mon entreprise en trois semaines.",
            "Les réunions efficaces, c'est mon dada.",
            "En reconversion, j'aimerais découvrir l'économie sociale et solidaire.",
        ],
        "needs": [
            ("Tenir le fil entre toutes les équipes",
             "Entre les bénévoles, la mairie et les fournisseurs, plus personne ne sait qui fait quoi : il nous "
             "faut quelqu'un pour organiser le tout."),
            ("Des rencontres d'équipe qui servent à quelque chose",
             "Nos soirées de discussion durent trois heures et rien n'est décidé : nous aimerions apprendre à "
             "trancher ensemble."),
            ("Établir un calendrier réaliste jusqu'à l'ouverture",
             "Travaux, recrutement, inauguration : nous voudrions un calendrier clair avec les étapes et les responsables."),
            ("Clarifier qui décide quoi dans le collectif",
             "Le groupe s'est agrandi et les tensions montent ; nous cherchons quelqu'un pour nous aider à définir "
             "les rôles et la prise de décision."),
            ("Suivre l'avancement du chantier participatif",
             "Une vingtaine de bénévoles se relaient et il faut quelqu'un pour répartir les tâches et vérifier "
             "que tout avance."),
            ("Aider l'équipe fondatrice à fixer des priorités",
             "Le projet grandit vite et nos fondateurs s'épuisent : il faudrait répartir les responsabilités."),
        ],
    },
    "evenementiel": {
        "label": "Événementiel et logistique", "remote": False,
        "causes": ["Art et Culture pour tous", "Sport pour tous"],
        "tags": ["événementiel", "logistique", "organisation d'événements", "régie", "gestion de bénévoles", "billetterie"],
        "skills": [
            "Régiss{euse} de spectacle, je gère le son, la lumière et la logistique.",
            "Organisa{trice} d'événements professionnels depuis dix ans.",
            "J'ai organisé la brocante de mon quartier pendant six ans.",
            "Logistique, montage de chapiteaux, gestion des bénévoles le jour J.",
            "Permis poids lourd, je peux conduire un camion pour transporter du matériel.",
            "Je connais les démarches pour une manifestation sur la voie publique.",
            "Buvette, billetterie, accueil du public : j'ai tout fait en festival.",
            "Chargé{e} de production dans une salle de concert.",
            "Gestion de stocks et d'entrepôt, préparation de commandes.",
        ],
        "bios": [
            "J'adore les fêtes de quartier et je suis toujours là pour monter les stands.",
            "Je travaille dans l'événementiel et je connais plein de prestataires.",
            "J'ai été bénévole sur de nombreux festivals de musique.",
            "Retraité{e} de la logistique, j'aime quand tout arrive à l'heure.",
            "Mon truc, c'est le jour J : l'adrénaline, les imprévus, les solutions.",
            "Je peux prêter ma camionnette le week-end.",
        ],
        "needs": [
            ("Installer les stands de la fête de quartier",
             "Le jour venu, il faut monter tables, barnums et rallonges pour une trentaine d'exposants, puis tout "
             "ranger le soir."),
            ("Obtenir l'autorisation d'occuper la place du marché",
             "Pour notre grande journée de juin, il faut déposer les demandes en mairie et prévoir la sécurité."),
            ("Gérer l'accueil et le bar le week-end de la fête",
             "Nous attendons un millier de personnes et il faut organiser les équipes d'accueil, de caisse et de rangement."),
            ("Organiser les tournées de ramassage des dons",
             "Chaque semaine, il faut aller chercher les dons chez les particuliers et les répartir entre nos deux lieux."),
            ("Piloter le déménagement vers le nouveau local",
             "Deux cents cartons, des meubles et une chambre froide à transporter en un week-end."),
            ("Répartir les postes le jour de l'inauguration",
             "Nous cherchons quelqu'un pour prévoir les horaires de chacun et faire face aux imprévus."),
        ],
    },
    "seniors": {
        "label": "Accompagnement des personnes âgées", "remote": False,
        "causes": ["Solidarité et Insertion", "Santé pour tous"],
        "tags": [
            "personnes âgées", "aide à domicile", "visites de convivialité", "accompagnement", "aidants",
            "animation seniors",
        ],
        "skills": [
            "Aide-soignant{e} en EHPAD, je connais bien les personnes âgées dépendantes.",
            "Je rends visite à des personnes âgées isolées depuis cinq ans.",
            "Auxiliaire de vie, je sais accompagner les gestes du quotidien.",
            "Anima{trice} en maison de retraite, j'organise des activités autour de la mémoire.",
            "Formé{e} à l'écoute active et à l'accompagnement du deuil.",
            "Assistant{e} de service social, spécialisé{e} dans le maintien à domicile.",
            "J'accompagne des aînés en sortie : courses, médecin, promenade.",
            "Ergothérapeute, j'aide à adapter les logements des seniors.",
            "J'ai été aidant{e} pour ma mère pendant dix ans.",
        ],
        "bios": [
            "Les personnes âgées ont tant à raconter, j'aime les écouter.",
            "J'ai accompagné mes grands-parents jusqu'au bout et ça m'a marqué{e}.",
            "Je travaille dans le médico-social.", "Je crois qu'on ne devrait jamais vieillir seul.",
            "Retraité{e}, je veux aider ceux qui sont moins mobiles que moi.",
            "Je passe déjà le dimanche avec une voisine de 92 ans.",
        ],
        "needs": [
            ("Rendre visite à des voisins qui ne sortent plus",
             "Plusieurs habitants de plus de 80 ans vivent seuls et n'ont d'autre visite que celle de l'infirmière."),
            ("Accompagner nos anciens au marché",
             "Le mardi matin, nous aimerions proposer une sortie accompagnée à ceux qui ont du mal à marcher."),
            ("Soutenir les proches qui veillent sur un parent dépendant",
             "Notre café réunit des personnes épuisées par la prise en charge d'un conjoint ou d'un parent ; nous "
             "cherchons quelqu'un pour animer les échanges."),
            ("Animer un après-midi jeux à la résidence autonomie",
             "Les résidents s'ennuient le jeudi : belote, loto, quiz musical, tout est bienvenu."),
            ("Appeler chaque semaine des personnes isolées",
             "Nous montons une chaîne téléphonique pour prendre des nouvelles des plus fragiles pendant l'hiver et "
             "les canicules."),
            ("Prévenir les chutes à la maison",
             "Des locataires de 85 ans ont besoin de conseils simples : barres d'appui, tapis, éclairage."),
        ],
    },
    "couture": {
        "label": "Couture, textile et upcycling", "remote": False,
        "causes": ["Protection de la nature", "Art et Culture pour tous"],
        "tags": ["couture", "retouches", "upcycling", "tricot", "costumes", "patronage"],
        "skills": [
            "Couturi{ere} de métier, je fais des retouches et du sur-mesure.",
            "Je couds mes vêtements depuis l'adolescence.",
            "Upcycling : je transforme de vieux jeans en sacs et en trousses.",
            "Costumi{ere} pour le théâtre, j'ai travaillé sur plusieurs créations.",
            "Tricot, crochet, broderie : j'anime un cercle d'aiguilles.",
            "Modélisme et patronage, formation en école de mode.",
            "Je répare les vêtements abîmés plutôt que de les jeter.",
            "Machine à coudre, surjeteuse, brodeuse : je sais tout régler.",
            "Styliste, j'ai travaillé pour une marque de prêt-à-porter.",
        ],
        "bios": [
            "Ma grand-mère m'a appris à coudre et je ne me suis jamais arrêté{e}.", "Je déteste la mode jetable.",
            "Mon salon est envahi de tissus.", "J'ai une vieille Singer qui marche encore très bien.",
            "J'aime donner une seconde vie aux textiles.",
            "Je travaille dans la mode et j'ai envie de projets plus responsables.",
        ],
        "needs": [
            ("Transformer les habits déposés plutôt que les jeter",
             "Nous recevons des sacs entiers d'habits troués ou démodés et voudrions en faire autre chose."),
            ("Habiller trente enfants pour le spectacle",
             "Les enfants montent sur scène en juin et il faut les déguiser en animaux de la forêt."),
            ("Animer un atelier « fil et aiguille »",
             "Des habitantes voudraient apprendre à faire un ourlet, poser une fermeture éclair ou raccommoder une chaussette."),
            ("Fabriquer des cabas à partir de bâches récupérées",
             "Nous avons récupéré des bâches publicitaires et aimerions en faire des sacs à vendre au profit de l'association."),
            ("Remettre en route nos machines données",
             "On nous a offert cinq machines d'occasion que personne ne sait régler ni utiliser."),
            ("Créer une petite collection de pièces uniques",
             "Avec les chutes de nos dons, nous voudrions confectionner des pièces uniques à vendre dans la boutique."),
        ],
    },
    "musique": {
        "label": "Musique et spectacle vivant", "remote": False,
        "causes": ["Art et Culture pour tous"],
        "tags": ["musique", "chant", "théâtre", "sonorisation", "danse", "mise en scène"],
        "skills": [
            "Musicien{ne} professionnel{le}, je joue du violon dans un orchestre.",
            "Guitariste amateur, je joue dans un groupe de rock depuis vingt ans.",
            "Chef{fe} de chœur, je dirige une chorale de quarante voix.",
            "Comédien{ne}, j'anime aussi des ateliers théâtre.", "Professeur{e} de piano au conservatoire.",
            "Je fais du son en live : console, micros, retours.",
            "Dans{euse} contemporain{e}, j'enseigne aux amateurs.", "Mett{euse} en scène de théâtre amateur.",
            "Je joue de l'accordéon et je connais tout le répertoire des bals populaires.",
        ],
        "bios": [
            "La musique fait partie de ma vie depuis l'enfance.", "Je monte sur scène dès que j'en ai l'occasion.",
            "J'ai un home studio dans mon sous-sol.", "Intermittent{e} du spectacle, j'ai des périodes creuses.",
            "J'adore chanter, même faux.", "Le spectacle vivant rassemble les gens, j'en suis convaincu{e}.",
        ],
        "needs": [
            ("Faire chanter ensemble petits et grands",
             "Nous voulons réunir une fois par semaine des voix de tous âges, des enfants aux résidents de la "
             "maison de retraite."),
            ("Programmer les concerts du week-end",
             "Il nous faut quelqu'un qui connaisse des groupes locaux et sache bâtir une affiche de deux soirées."),
            ("Diriger les répétitions de notre troupe",
             "Une douzaine d'habitants veulent jouer une pièce au printemps et personne ne sait les faire travailler."),
            ("Brancher et régler les enceintes pour le bal",
             "On nous prête des enceintes et une table de mixage, mais personne ne sait les installer."),
            ("Animer un atelier d'éveil rythmique",
             "Nous aimerions proposer aux 3-6 ans un moment de découverte des instruments et du rythme."),
            ("Créer une fanfare de quartier",
             "Des voisins ont des cuivres au grenier et rêvent de défiler à la fête de la ville."),
        ],
    },
    "sport": {
        "label": "Sport et coaching", "remote": False,
        "causes": ["Sport pour tous", "Santé pour tous"],
        "tags": ["sport", "coaching", "yoga", "sport adapté", "encadrement sportif", "remise en forme"],
        "skills": [
            "Éduca{trice} sporti{ve}, j'encadre des groupes de tous âges.",
            "Coach diplômé{e} (BPJEPS), spécialisé{e} en remise en forme.",
            "Entraîn{euse} de foot pour les moins de 12 ans.", "Professeur{e} de yoga, j'enseigne aussi la méditation.",
            "Je cours trois marathons par an et j'entraîne un groupe de débutants.",
            "Kinésithérapeute, je connais bien le sport adapté et la prévention des blessures.",
            "Sport adapté et handisport : j'ai encadré des personnes en situation de handicap.",
            "Ceinture noire de judo, j'enseigne aux enfants.",
            "Marche nordique et randonnée : j'organise des sorties le dimanche.",
        ],
        "bios": [
            "Le sport m'a beaucoup apporté, j'aimerais le transmettre.",
            "Je m'entraîne tous les matins au parc de Sceaux.", "Ancien{ne} sporti{ve} de haut niveau.",
            "Je crois au sport comme outil d'insertion.", "Je fais du vélo, de la course et de la natation.",
            "J'aime motiver les autres à bouger.",
        ],
        "needs": [
            ("Faire bouger les résidents une fois par semaine",
             "Une séance douce d'activité physique aiderait les résidents à garder leur mobilité et leur moral."),
            ("Des séances de reprise pour les femmes du quartier",
             "Des habitantes aimeraient se remettre à l'activité physique, en petit groupe, sans jugement, près de chez elles."),
            ("Structurer une équipe de ballon pour les jeunes",
             "Une vingtaine de garçons et de filles de 10 à 14 ans jouent au pied des immeubles : nous voulons "
             "les réunir en équipe."),
            ("Proposer des balades actives le dimanche",
             "Nous voulons organiser des sorties collectives dans le parc pour lutter contre la sédentarité."),
            ("Des jeux collectifs pour des jeunes en fauteuil",
             "Notre association accueille des jeunes à mobilité réduite et nous voulons leur proposer des activités physiques."),
            ("Préparer des novices à courir 5 km",
             "Pour la course solidaire de l'automne, nous aimerions accompagner des habitants qui n'ont jamais couru."),
        ],
    },
    "velo": {
        "label": "Mobilité vélo et réparation de vélos", "remote": False,
        "causes": ["Protection de la nature", "Sport pour tous"],
        "tags": ["vélo", "mécanique cycle", "vélo-école", "mobilité douce", "cyclotourisme", "vélo-cargo"],
        "skills": [
            "Mécanicien{ne} cycle, j'ai travaillé dix ans chez un vélociste.",
            "Je répare mes vélos moi-même : freins, dérailleurs, roues voilées.",
            "Moni{trice} de vélo-école, j'apprends aux adultes à rouler en ville.",
            "Je fais tous mes trajets à vélo et je connais les itinéraires cyclables du sud des Hauts-de-Seine.",
            "Bénévole dans un atelier vélo participatif depuis cinq ans.",
            "Je sais marquer un vélo contre le vol et régler une selle.",
            "Cyclotouriste, j'organise des balades à vélo.",
            "Vélos-cargos, vélos électriques : je connais bien les modèles et leur entretien.",
            "Ancien{ne} coursi{ere} à vélo, je connais la mécanique par cœur.",
        ],
        "bios": [
            "Le vélo a changé ma vie quotidienne.", "J'ai trois vélos et une boîte à outils.",
            "Je milite pour une ville plus cyclable.", "Je vais au travail à vélo été comme hiver.",
            "J'ai traversé la France à vélo l'été dernier.", "Je crois que la petite reine peut sauver nos villes.",
        ],
        "needs": [
            ("Remettre en état les bicyclettes données",
             "Les habitants nous déposent des bicyclettes rouillées : freins, chaînes et pneus sont à revoir avant "
             "de les revendre à petit prix."),
            ("Apprendre à des adultes à pédaler sans peur",
             "Des femmes du quartier n'ont jamais appris et voudraient se déplacer seules."),
            ("Tenir l'atelier d'autoréparation du samedi",
             "Les gens viennent avec leur monture et on les aide à changer une chambre à air ou régler les freins."),
            ("Organiser une balade à deux roues jusqu'au parc",
             "Nous voulons une sortie familiale encadrée, avec un parcours sûr et des pauses."),
            ("Repérer des trajets sûrs vers les écoles",
             "Les parents voudraient que les enfants aillent à l'école en pédalant, mais il faut d'abord repérer "
             "les itinéraires."),
            ("Entretenir nos triporteurs de prêt",
             "Nous prêtons trois triporteurs électriques aux habitants et ils ont besoin d'un entretien régulier."),
        ],
    },
    "mediation_numerique": {
        "label": "Médiation numérique", "remote": False,
        "causes": ["Éducation pour tous", "Solidarité et Insertion"],
        "tags": [
            "médiation numérique", "démarches en ligne", "smartphone", "inclusion numérique", "bureautique",
            "Accueillir, orienter, renseigner un public",
        ],
        "skills": [
            "Conseill{ere} numérique, j'accompagne les démarches en ligne.",
            "J'aide mes voisins à utiliser leur smartphone et leur tablette.",
            "Média{trice} numérique dans une médiathèque.", "Je donne des cours d'informatique aux seniors.",
            "Formé{e} aux démarches administratives en ligne : impôts, CAF, Ameli, France Travail.",
            "Une patience infinie pour expliquer comment envoyer un mail ou une photo.",
            "J'anime des ateliers « premiers pas sur Internet ».",
            "Écrivain public numérique, j'aide à remplir les formulaires en ligne.",
            "Je reconditionne des ordinateurs et j'apprends aux gens à s'en servir.",
        ],
        "bios": [
            "J'ai appris à mes parents à faire des visios pendant le confinement.",
            "Je trouve injuste que tant de démarches soient devenues 100 % en ligne.",
            "Je suis patient{e}, vraiment très patient{e}.", "Je travaille dans une médiathèque.",
            "La fracture numérique me préoccupe.",
            "J'aime voir le visage des gens quand ils réussissent seuls leur première démarche.",
        ],
        "needs": [
            ("Aider des habitants à faire leurs papiers sur internet",
             "Déclaration d'impôts, dossier CAF, rendez-vous en préfecture : beaucoup de nos adhérents sont perdus "
             "devant les écrans."),
            ("Aider des résidents à voir leurs petits-enfants à distance",
             "Des résidents ont reçu une tablette à Noël et ne savent pas encore s'en servir."),
            ("Tenir une permanence pour les démarches administratives",
             "Deux heures par semaine, il faudrait accueillir les habitants qui n'arrivent pas à remplir un "
             "formulaire sur l'ordinateur."),
            ("Initier des débutants au courriel",
             "Un petit groupe veut apprendre à envoyer un message, joindre un document et se méfier des arnaques."),
            ("Accompagner les familles sur l'espace parents du collège",
             "Beaucoup de parents ne savent pas consulter les notes ni répondre aux messages des professeurs."),
            ("Préparer des portables donnés pour des familles",
             "Une entreprise nous donne vingt portables : il faudrait les préparer et montrer aux familles comment "
             "s'en servir."),
        ],
    },
    "environnement": {
        "label": "Environnement et zéro déchet", "remote": False,
        "causes": ["Protection de la nature"],
        "tags": ["zéro déchet", "environnement", "transition écologique", "sensibilisation", "éco-gestes", "biodiversité"],
        "skills": [
            "Anima{trice} nature, je connais bien la faune et la flore locales.",
            "Je vis presque zéro déchet depuis cinq ans et j'anime des ateliers.",
            "Ingénieur{e} en environnement, spécialisé{e} dans la gestion des déchets.",
            "Formé{e} comme guide composteur par le territoire.",
            "Je fabrique mes produits ménagers et mes cosmétiques maison.",
            "Bilan carbone, sobriété énergétique, transition écologique.",
            "J'organise des ramassages de déchets dans le quartier.",
            "Fresque du Climat : je suis anima{trice} certifié{e}.",
            "Éducation à l'environnement auprès des scolaires.",
        ],
        "bios": [
            "L'urgence climatique me pousse à agir localement.", "Je remplis mes bocaux au vrac tous les samedis.",
            "Je ramasse les déchets lors de mes balades.", "Militant{e} écologiste depuis l'université.",
            "J'essaie de réduire mon impact chaque jour.", "Je rêve d'un quartier où rien ne se jette.",
        ],
        "needs": [
            ("Réduire les poubelles de la cantine",
             "Chaque midi, nous jetons des kilos de nourriture et d'emballages : nous voulons comprendre pourquoi "
             "et changer nos habitudes."),
            ("Sensibiliser les habitants aux bons gestes",
             "Nous voulons proposer des animations sur le tri, les achats sans emballage et les produits faits maison."),
            ("Mesurer l'impact climatique de notre lieu",
             "Avant de candidater à un label, nous devons estimer nos émissions et trouver des pistes de sobriété."),
            ("Organiser un grand nettoyage des rues et du parc",
             "Au printemps, nous voulons mobiliser les familles pour ramasser tout ce qui traîne."),
            ("Faire découvrir la nature du parc aux classes",
             "Des enseignants aimeraient des sorties pour observer les oiseaux, les insectes et les arbres."),
            ("Accompagner notre passage aux contenants réutilisables",
             "Nous voulons remplacer les gobelets jetables par une consigne et organiser leur retour."),
        ],
    },
    "sante": {
        "label": "Santé et premiers secours", "remote": False,
        "causes": ["Santé pour tous", "Prévention et protection"],
        "tags": ["premiers secours", "PSC1", "prévention santé", "soins infirmiers", "nutrition", "écoute"],
        "skills": [
            "Infirmi{ere} diplômé{e} d'État, je travaille en libéral.",
            "Forma{trice} PSC1, j'enseigne les premiers secours.", "Médecin généraliste à la retraite.",
            "Secouriste bénévole dans une association de protection civile.",
            "Psychologue clinicien{ne}, je peux animer des groupes de parole.",
            "Pharmacien{ne}, je m'intéresse à la prévention et à l'éducation à la santé.",
            "Sage-femme, j'accompagne les jeunes parents.", "Diététicien{ne}, j'anime des ateliers de nutrition.",
            "Aide-soignant{e} aux urgences, je sais garder mon calme dans les situations de stress.",
        ],
        "bios": [
            "Je travaille dans un hôpital du secteur.", "Prendre soin des autres, c'est ma vocation.",
            "J'ai passé mon PSC1 et j'ai envie de le transmettre.", "La prévention, c'est ce qui me motive le plus.",
            "Je suis soignant{e} depuis vingt ans.", "Je crois à une santé accessible à tous, partout.",
        ],
        "needs": [
            ("Apprendre aux bénévoles les gestes qui sauvent",
             "Nous accueillons du public tous les jours et personne ne saurait réagir face à un malaise ou un étouffement."),
            ("Tenir le poste de soins de la fête",
             "Avec un millier de visiteurs attendus, il nous faut une personne qualifiée pour les petits bobos et l'alerte."),
            ("Animer des rencontres sur l'alimentation équilibrée",
             "Des familles aimeraient des conseils concrets sur les repas des enfants et le diabète."),
            ("Accueillir des personnes en détresse",
             "Dans notre café, certains proches craquent ; il faudrait quelqu'un de formé pour accueillir ces "
             "moments difficiles."),
            ("Parler des addictions avec les ados",
             "Nous voulons organiser des soirées d'échange avec les jeunes sur l'alcool, les écrans et le cannabis."),
            ("Vérifier notre trousse et nos consignes d'urgence",
             "Le lieu ouvre bientôt : défibrillateur, trousse, affichage des numéros, tout reste à organiser."),
        ],
    },
    "locaux": {
        "label": "Immobilier et aménagement de locaux", "remote": False,
        "causes": ["Bénévolat de compétences"],
        "tags": [
            "immobilier", "aménagement", "architecture", "accessibilité ERP", "travaux", "plans",
            "Préparer l'exécution du chantier",
        ],
        "skills": [
            "Architecte, j'ai réhabilité plusieurs tiers-lieux.",
            "Agent immobilier, je connais bien le marché des locaux commerciaux du secteur.",
            "Architecte d'intérieur, j'aménage des petits espaces.",
            "Conduc{trice} de travaux, je sais chiffrer et suivre un chantier.",
            "Je connais les normes d'accessibilité et de sécurité des ERP.",
            "Gestionnaire de patrimoine immobilier chez un bailleur social.",
            "Économiste de la construction, je chiffre les rénovations.",
            "Je prospecte des locaux commerciaux pour des enseignes depuis dix ans.",
            "Dessina{trice} en bâtiment, je fais des plans sur AutoCAD.",
        ],
        "bios": [
            "Le bâti, les volumes et la lumière me passionnent.",
            "Je travaille chez un bailleur social du département.", "J'ai transformé un ancien entrepôt en maison.",
            "Je visite des locaux toute la journée, autant en faire profiter une association.",
            "J'aime imaginer ce qu'un lieu vide pourrait devenir.",
            "Retraité{e} du BTP, j'ai suivi des chantiers pendant quarante ans.",
        ],
        "needs": [
            ("Dénicher une surface abordable en rez-de-chaussée",
             "Nous cherchons 80 m² accessibles, près des transports, et ne savons pas comment approcher les propriétaires."),
            ("Organiser l'espace de notre futur lieu",
             "Atelier, boutique, coin café : comment tout faire tenir dans une ancienne boutique de 120 m² ?"),
            ("Pouvoir recevoir du public en règle",
             "Rampe, sanitaires, issues de secours : nous ne savons pas ce qui est obligatoire pour accueillir des visiteurs."),
            ("Estimer le coût des travaux",
             "Avant de signer, nous avons besoin d'une estimation sérieuse pour notre plan de financement."),
            ("Négocier avec le propriétaire du rez-de-chaussée",
             "Un organisme HLM pourrait nous louer une ancienne loge à prix réduit : il faut quelqu'un qui parle son langage."),
            ("Suivre la rénovation de la boutique",
             "Les artisans commencent en janvier et personne dans l'équipe ne sait vérifier l'avancement."),
        ],
    },
}

# Relative abundance of each family among members (more accountants than bike mechanics).
FAMILY_WEIGHTS = {
    "compta": 1.3, "juridique": 1.0, "communication": 1.4, "graphisme": 1.0, "informatique": 1.3, "photo_video": 0.9,
    "jardinage": 1.2, "bricolage": 1.2, "cuisine": 1.2, "enfance": 1.4, "langues": 1.1, "financements": 0.8,
    "gestion_projet": 1.2, "evenementiel": 1.0, "seniors": 1.0, "couture": 0.9, "musique": 1.0, "sport": 1.0,
    "velo": 0.8, "mediation_numerique": 0.9, "environnement": 1.0, "sante": 1.0, "locaux": 0.8,
}

# Life and motivation fragments that say nothing about skills.
GENERIC_BIOS = [
    "Installé{e} {a_commune} depuis {years} ans, j'aimerais m'investir dans la vie locale.",
    "J'habite {a_commune} et je cherche des projets près de chez moi.",
    "J'ai un peu de temps libre et l'envie d'être utile.",
    "Parent de deux enfants, je peux donner quelques heures par semaine.",
    "En télétravail trois jours par semaine, je peux me libérer en fin de journée.",
    "Arrivé{e} récemment dans le quartier, j'ai envie de rencontrer du monde.", "Disponible surtout le week-end.",
    "Je préfère les missions ponctuelles.", "Je peux m'engager dans la durée si le projet me parle.",
    "J'ai des après-midis libres en semaine.",
    "Je cherche un engagement concret, loin des écrans.", "Les projets de quartier me tiennent à cœur.",
]

FIRST_NAMES = [
    ("Camille", "F"), ("Léa", "F"), ("Manon", "F"), ("Chloé", "F"), ("Inès", "F"), ("Sarah", "F"), ("Emma", "F"),
    ("Julie", "F"), ("Claire", "F"), ("Nathalie", "F"), ("Isabelle", "F"), ("Sophie", "F"), ("Catherine", "F"),
    ("Françoise", "F"), ("Martine", "F"), ("Sylvie", "F"), ("Valérie", "F"), ("Aurélie", "F"), ("Élodie", "F"),
    ("Fatima", "F"), ("Amina", "F"), ("Yasmine", "F"), ("Leïla", "F"), ("Nadia", "F"), ("Aïcha", "F"), ("Mariam", "F"),
    ("Fatou", "F"), ("Awa", "F"), ("Linh", "F"), ("Mei", "F"), ("Priya", "F"), ("Ana", "F"), ("Giulia", "F"),
    ("Marta", "F"), ("Zoé", "F"), ("Louise", "F"), ("Alice", "F"), ("Jeanne", "F"), ("Margaux", "F"), ("Pauline", "F"),
    ("Hélène", "F"), ("Anne", "F"), ("Marie", "F"), ("Agnès", "F"), ("Brigitte", "F"), ("Dominique", "F"),
    ("Christine", "F"), ("Laure", "F"), ("Bérénice", "F"), ("Salomé", "F"), ("Noémie", "F"), ("Lina", "F"),
    ("Rose", "F"), ("Océane", "F"), ("Anaïs", "F"), ("Clémence", "F"), ("Mathilde", "F"), ("Hanna", "F"),
    ("Myriam", "F"), ("Thomas", "M"), ("Nicolas", "M"), ("Julien", "M"), ("Antoine", "M"), ("Maxime", "M"),
    ("Lucas", "M"), ("Hugo", "M"), ("Louis", "M"), ("Arthur", "M"), ("Pierre", "M"), ("Jean", "M"), ("Michel", "M"),
    ("Philippe", "M"), ("Alain", "M"), ("Bernard", "M"), ("Patrick", "M"), ("Laurent", "M"), ("Olivier", "M"),
    ("Stéphane", "M"), ("Christophe", "M"), ("Karim", "M"), ("Mehdi", "M"), ("Youssef", "M"), ("Samir", "M"),
    ("Rachid", "M"), ("Moussa", "M"), ("Mamadou", "M"), ("Ibrahima", "M"), ("Minh", "M"), ("Kevin", "M"),
    ("Paulo", "M"), ("Marco", "M"), ("Diego", "M"), ("Théo", "M"), ("Nathan", "M"), ("Gabriel", "M"), ("Raphaël", "M"),
    ("Adrien", "M"), ("Bastien", "M"), ("Cédric", "M"), ("Damien", "M"), ("Éric", "M"), ("François", "M"),
    ("Gérard", "M"), ("Henri", "M"), ("Jacques", "M"), ("Luc", "M"), ("Marc", "M"), ("Omar", "M"), ("Rémi", "M"),
    ("Sébastien", "M"), ("Vincent", "M"), ("Yves", "M"), ("Xavier", "M"), ("Benoît", "M"), ("Guillaume", "M"),
    ("Jérôme", "M"), ("Lionel", "M"), ("Ahmed", "M"), ("Claude", "M"),
]

INITIALS = "ABBCCDDFGGHLLMMMNPPRRRSSTVB"

WEEKDAYS = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"]

# --------------------------------------------------------------------------------------
# Projects: types, stage phrasing, offering phrasing
# --------------------------------------------------------------------------------------
# Each type: causes, families (first = the most typical need), title patterns ({de}),
# intro sentences ({a}: "à Sceaux", "au Plessis-Robinson"...).

PROJECT_TYPES: list[dict] = [
    {
        "key": "ressourcerie",
        "causes": ["Protection de la nature", "Solidarité et Insertion"],
        "families": ["bricolage", "evenementiel", "environnement", "couture", "compta", "communication"],
        "titles": ["Ressourcerie {de}", "La Seconde Main, ressourcerie {de}"],
        "intros": [
            "Nous voulons ouvrir une ressourcerie {a} : collecter les objets dont les habitants ne veulent plus, "
            "les remettre en état et les revendre à petit prix.",
            "Notre collectif veut créer {a} un lieu où les objets du quotidien trouvent une seconde vie plutôt "
            "que de finir à la déchetterie.",
        ],
    },
    {
        "key": "epicerie",
        "causes": ["Solidarité et Insertion"],
        "families": ["compta", "evenementiel", "cuisine", "juridique", "financements"],
        "titles": ["Épicerie solidaire {de}", "Le Panier partagé, épicerie {de}"],
        "intros": [
            "L'épicerie solidaire permet à des familles aux revenus modestes {a} de faire leurs courses à 10 à "
            "30 % du prix habituel.",
            "Nous portons un projet d'épicerie solidaire {a}, ouverte à tous avec des tarifs adaptés aux revenus.",
        ],
    },
    {
        "key": "jardin",
        "causes": ["Protection de la nature"],
        "families": ["jardinage", "bricolage", "enfance", "environnement", "communication"],
        "titles": ["Jardin partagé {de}", "Le Jardin des voisins {de}"],
        "intros": [
            "Sur une friche {a}, nous voulons créer un jardin partagé où voisins, écoles et résidents cultivent ensemble.",
            "Notre jardin partagé réunit une quarantaine de familles {a} autour de parcelles collectives et de bacs surélevés.",
        ],
    },
    {
        "key": "cafe_aidants",
        "causes": ["Santé pour tous", "Solidarité et Insertion"],
        "families": ["seniors", "sante", "communication", "gestion_projet"],
        "titles": ["Café des aidants {de}", "Un temps pour soi, café des aidants {de}"],
        "intros": [
            "Le café des aidants accueille {a} les proches qui accompagnent au quotidien un parent malade, âgé ou handicapé.",
            "Nous voulons offrir {a} un lieu convivial où les aidants familiaux peuvent souffler, s'informer et "
            "partager leur expérience.",
        ],
    },
    {
        "key": "atelier_velo",
        "causes": ["Protection de la nature", "Sport pour tous"],
        "families": ["velo", "bricolage", "communication", "evenementiel"],
        "titles": ["Atelier vélo participatif {de}", "La Rustine, atelier vélo {de}"],
        "intros": [
            "Notre atelier vélo participatif {a} apprend aux habitants à entretenir eux-mêmes leur vélo.",
            "Nous voulons créer {a} un atelier où chacun répare sa bicyclette avec l'aide de bénévoles et des outils partagés.",
        ],
    },
    {
        "key": "fablab",
        "causes": ["Éducation pour tous"],
        "families": ["informatique", "bricolage", "graphisme", "enfance", "gestion_projet"],
        "titles": ["Fab lab {de}", "L'Établi numérique {de}"],
        "intros": [
            "Nous voulons ouvrir {a} un fab lab avec imprimantes 3D, découpe laser et outils, accessible aux "
            "jeunes comme aux retraités.",
            "Notre fab lab {a} propose des ateliers de fabrication numérique et de bricolage partagé.",
        ],
    },
    {
        "key": "festival",
        "causes": ["Art et Culture pour tous"],
        "families": ["musique", "evenementiel", "communication", "graphisme", "photo_video"],
        "titles": ["Festival des voisins {de}", "Fête des cultures {de}"],
        "intros": [
            "Nous organisons {a} un festival gratuit de musiques et d'arts de rue, porté par des bénévoles.",
            "Chaque année en juin, notre fête rassemble {a} des habitants de tous les quartiers autour de concerts, "
            "d'ateliers et d'un grand repas.",
        ],
    },
    {
        "key": "repair_cafe",
        "causes": ["Protection de la nature"],
        "families": ["bricolage", "couture", "velo", "environnement", "communication"],
        "titles": ["Repair café {de}", "Répare et partage {de}"],
        "intros": [
            "Un samedi par mois, notre repair café {a} aide les habitants à réparer leurs objets au lieu de les jeter.",
            "Nous voulons lancer {a} un repair café où bénévoles et visiteurs réparent ensemble petit électroménager, "
            "vêtements et vélos.",
        ],
    },
    {
        "key": "cantine",
        "causes": ["Protection de la nature", "Solidarité et Insertion"],
        "families": ["cuisine", "environnement", "compta", "sante", "juridique"],
        "titles": ["Cantine zéro déchet {de}", "La Table anti-gaspi {de}"],
        "intros": [
            "Notre cantine associative {a} cuisine des produits locaux et de saison, sans emballages jetables.",
            "Nous voulons ouvrir {a} une cantine de quartier qui cuisine les invendus des commerces et sert des "
            "repas à prix libre.",
        ],
    },
    {
        "key": "soutien_scolaire",
        "causes": ["Éducation pour tous"],
        "families": ["enfance", "langues", "mediation_numerique", "communication"],
        "titles": ["Coup de pouce scolaire {de}", "Les Devoirs partagés {de}"],
        "intros": [
            "Notre association accompagne {a} des élèves du primaire au lycée dont les parents ne peuvent pas les aider.",
            "Nous voulons organiser {a} un accompagnement à la scolarité gratuit, le soir après l'école.",
        ],
    },
    {
        "key": "tiers_lieu",
        "causes": ["Art et Culture pour tous", "Solidarité et Insertion"],
        "families": ["locaux", "gestion_projet", "evenementiel", "juridique", "compta"],
        "titles": ["Tiers-lieu {de}", "La Fabrique commune {de}"],
        "intros": [
            "Nous voulons faire naître {a} un tiers-lieu qui mêle café associatif, ateliers et espace de travail partagé.",
            "Notre tiers-lieu {a} accueille associations, artisans et habitants dans un ancien bâtiment réhabilité.",
        ],
    },
    {
        "key": "fle",
        "causes": ["Solidarité et Insertion", "Éducation pour tous"],
        "families": ["langues", "enfance", "juridique", "mediation_numerique"],
        "titles": ["Parler ensemble {de}", "Ateliers de français {de}"],
        "intros": [
            "Nous proposons {a} des ateliers de français aux personnes exilées et aux nouveaux arrivants.",
            "Notre collectif veut aider {a} des familles réfugiées à apprendre le français et à trouver leurs repères.",
        ],
    },
    {
        "key": "cine_club",
        "causes": ["Art et Culture pour tous"],
        "families": ["photo_video", "communication", "evenementiel", "graphisme"],
        "titles": ["Ciné-club {de}", "Cinéma sous les étoiles {de}"],
        "intros": [
            "Nous voulons organiser {a} des projections en plein air et des débats autour de films d'auteur.",
            "Notre ciné-club {a} programme un film par mois, suivi d'une discussion avec le public.",
        ],
    },
    {
        "key": "sport_adapte",
        "causes": ["Sport pour tous", "Santé pour tous"],
        "families": ["sport", "sante", "communication", "seniors"],
        "titles": ["Bouger ensemble {de}", "Club de sport adapté {de}"],
        "intros": [
            "Notre association propose {a} des activités physiques adaptées aux personnes âgées, handicapées ou "
            "éloignées du sport.",
            "Nous voulons créer {a} des séances sportives gratuites dans les parcs pour les habitants qui n'osent "
            "pas pousser la porte d'un club.",
        ],
    },
    {
        "key": "numerique",
        "causes": ["Solidarité et Insertion", "Éducation pour tous"],
        "families": ["mediation_numerique", "seniors", "informatique", "communication"],
        "titles": ["Connectés ensemble {de}", "Permanence numérique {de}"],
        "intros": [
            "Nous accompagnons {a} les habitants éloignés des outils numériques dans leurs démarches et leurs usages quotidiens.",
            "Nous voulons ouvrir {a} un point d'accueil où chacun peut se faire aider pour ses démarches sur "
            "ordinateur ou sur téléphone.",
        ],
    },
    {
        "key": "textile",
        "causes": ["Protection de la nature", "Solidarité et Insertion"],
        "families": ["couture", "environnement", "communication", "compta"],
        "titles": ["L'Atelier du fil {de}", "Recyclerie textile {de}"],
        "intros": [
            "Notre atelier {a} collecte des textiles usagés pour les transformer et les revendre, et forme des "
            "habitantes en insertion.",
            "Nous voulons créer {a} un atelier de couture solidaire, ouvert à tous, autour du réemploi des tissus.",
        ],
    },
    {
        "key": "chorale",
        "causes": ["Art et Culture pour tous", "Solidarité et Insertion"],
        "families": ["musique", "seniors", "evenementiel", "communication"],
        "titles": ["Chorale intergénérationnelle {de}", "Les Voix mêlées {de}"],
        "intros": [
            "Nous réunissons {a} enfants, parents et résidents de maisons de retraite autour du chant.",
            "Notre chorale {a} fait chanter ensemble toutes les générations et donne des concerts dans les résidences.",
        ],
    },
    {
        "key": "journal",
        "causes": ["Mémoire et citoyenneté", "Art et Culture pour tous"],
        "families": ["communication", "photo_video", "graphisme", "informatique"],
        "titles": ["Journal de quartier {de}", "La Gazette des voisins {de}"],
        "intros": [
            "Nous publions {a} un petit journal de quartier écrit par les habitants et distribué dans les boîtes aux lettres.",
            "Nous voulons lancer {a} un média local, sur papier et en ligne, qui donne la parole aux habitants.",
        ],
    },
    {
        "key": "compost",
        "causes": ["Protection de la nature"],
        "families": ["environnement", "jardinage", "bricolage", "communication"],
        "titles": ["Compost collectif {de}", "Les Épluchures {de}"],
        "intros": [
            "Nous installons {a} des composteurs partagés au pied des immeubles et formons les habitants à s'en servir.",
            "Notre collectif veut réduire les ordures {a} en développant le compostage de quartier.",
        ],
    },
    {
        "key": "boites_livres",
        "causes": ["Éducation pour tous", "Art et Culture pour tous"],
        "families": ["bricolage", "enfance", "communication", "graphisme"],
        "titles": ["Boîtes à livres {de}", "Lire dans la rue {de}"],
        "intros": [
            "Nous voulons installer {a} des boîtes à livres et animer une bibliothèque de rue pour les enfants.",
            "Notre association fait circuler les livres {a} grâce à des boîtes en libre-service et des lectures en plein air.",
        ],
    },
    {
        "key": "velobus",
        "causes": ["Protection de la nature", "Éducation pour tous"],
        "families": ["velo", "enfance", "communication", "gestion_projet"],
        "titles": ["Pédibus et vélobus {de}", "Rouler jusqu'à l'école {de}"],
        "intros": [
            "Nous organisons {a} des trajets accompagnés, à pied et à vélo, vers les écoles.",
            "Des parents veulent créer {a} un vélobus pour que les enfants aillent à l'école en sécurité.",
        ],
    },
    {
        "key": "secours",
        "causes": ["Prévention et protection", "Santé pour tous"],
        "families": ["sante", "enfance", "communication", "evenementiel"],
        "titles": ["Citoyens sauveteurs {de}", "Les Gestes qui sauvent {de}"],
        "intros": [
            "Nous voulons former {a} le plus grand nombre d'habitants aux gestes de premiers secours.",
            "Notre association sensibilise {a} collégiens, commerçants et associations aux gestes d'urgence.",
        ],
    },
    {
        "key": "conciergerie",
        "causes": ["Solidarité et Insertion"],
        "families": ["seniors", "gestion_projet", "bricolage", "compta", "juridique"],
        "titles": ["Conciergerie solidaire {de}", "Coups de main entre voisins {de}"],
        "intros": [
            "Notre conciergerie solidaire {a} rend de petits services aux habitants et crée des emplois pour des "
            "personnes en insertion.",
            "Nous voulons monter {a} un service de petits coups de main à domicile pour les personnes isolées.",
        ],
    },
    {
        "key": "ludotheque",
        "causes": ["Éducation pour tous", "Art et Culture pour tous"],
        "families": ["enfance", "evenementiel", "communication", "locaux"],
        "titles": ["Ludothèque {de}", "Le Coffre à jeux {de}"],
        "intros": [
            "Nous voulons ouvrir {a} une ludothèque où l'on joue sur place et où l'on emprunte des jeux comme des livres.",
            "Notre ludothèque {a} accueille familles, assistantes maternelles et résidents autour du jeu.",
        ],
    },
    {
        "key": "paniers",
        "causes": ["Protection de la nature", "Santé pour tous"],
        "families": ["evenementiel", "compta", "jardinage", "informatique", "communication"],
        "titles": ["AMAP {de}", "Les Paniers de la vallée {de}"],
        "intros": [
            "Nous relions {a} des familles et des producteurs franciliens grâce à des paniers hebdomadaires.",
            "Nous voulons créer {a} un point de distribution de produits fermiers en circuit court.",
        ],
    },
    {
        "key": "memoire",
        "causes": ["Mémoire et citoyenneté", "Art et Culture pour tous"],
        "families": ["photo_video", "seniors", "langues", "graphisme", "communication"],
        "titles": ["Mémoires de quartier {de}", "Balades patrimoine {de}"],
        "intros": [
            "Nous recueillons {a} les souvenirs des anciens habitants pour en faire une exposition et des balades commentées.",
            "Notre projet fait découvrir {a} le patrimoine et l'histoire du quartier aux nouveaux arrivants.",
        ],
    },
    {
        "key": "jumelage",
        "causes": ["Coopération internationale"],
        "families": ["langues", "evenementiel", "financements", "communication"],
        "titles": ["Solidarité Sud {de}", "Échanges sans frontières {de}"],
        "intros": [
            "Notre association soutient {a} des échanges avec une ville partenaire au Sénégal autour de l'eau et de l'école.",
            "Nous voulons accueillir {a} de jeunes volontaires étrangers et organiser des échanges entre associations.",
        ],
    },
    {
        "key": "habitat",
        "causes": ["Solidarité et Insertion"],
        "families": ["juridique", "locaux", "seniors", "gestion_projet"],
        "titles": ["Habitat partagé {de}", "Colocation intergénérationnelle {de}"],
        "intros": [
            "Nous voulons mettre en relation {a} des seniors qui ont une chambre libre et des étudiants qui "
            "cherchent un logement.",
            "Notre projet d'habitat partagé {a} réunit des familles et des personnes âgées autour d'espaces communs.",
        ],
    },
    {
        "key": "theatre",
        "causes": ["Art et Culture pour tous"],
        "families": ["musique", "couture", "evenementiel", "enfance", "communication"],
        "titles": ["Troupe de théâtre amateur {de}", "Les Tréteaux {de}"],
        "intros": [
            "Notre troupe amateur {a} monte chaque année une pièce avec des habitants de tous âges.",
            "Nous voulons créer {a} des ateliers de théâtre pour les jeunes du quartier, jusqu'à un spectacle de fin d'année.",
        ],
    },
    {
        "key": "traiteur",
        "causes": ["Solidarité et Insertion"],
        "families": ["cuisine", "compta", "juridique", "communication", "financements"],
        "titles": ["Traiteur solidaire {de}", "Cuisines du monde {de}"],
        "intros": [
            "Notre traiteur d'insertion {a} forme des personnes éloignées de l'emploi aux métiers de bouche.",
            "Nous voulons créer {a} un service traiteur porté par des femmes du quartier qui cuisinent les recettes "
            "de leur pays.",
        ],
    },
    {
        "key": "boutique",
        "causes": ["Art et Culture pour tous"],
        "families": ["graphisme", "communication", "compta", "locaux", "informatique"],
        "titles": ["Boutique des créateurs {de}", "Le Comptoir local {de}"],
        "intros": [
            "Nous voulons ouvrir {a} une boutique partagée où artisans et créateurs locaux vendent leurs produits.",
            "Notre boutique collective {a} met en valeur le travail d'une vingtaine d'artisans du territoire.",
        ],
    },
    {
        "key": "maraude",
        "causes": ["Solidarité et Insertion", "Prévention et protection"],
        "families": ["sante", "cuisine", "gestion_projet", "communication"],
        "titles": ["Maraude solidaire {de}", "Les Veilleurs {de}"],
        "intros": [
            "Nous organisons {a} des maraudes pour aller à la rencontre des personnes sans abri.",
            "Notre collectif distribue {a} des repas chauds et propose une écoute aux personnes à la rue.",
        ],
    },
]

# Families any project may also need.
SUPPORT_FAMILIES = ["compta", "juridique", "communication", "financements", "gestion_projet", "graphisme", "locaux"]

ASSOCIATIONS = [
    "Association Graines de voisins", "Collectif La Main verte", "Association Fil à fil", "Collectif Vallée solidaire",
    "Association Cœur de quartier", "Association Les Passeurs", "Collectif Roue libre", "Association Tisser du lien",
    "Association Les Petites Mains", "Collectif Demain ensemble", "Association L'Envol", "Association Rebonds",
    "Association Au fil des âges", "Collectif Bien vivre aux Blagis", "Association Terres communes",
    "Association La Boussole", "Association Les Bricoleurs du dimanche", "Collectif Zéro gaspi",
    "Association Cultures croisées", "Association La Petite Échelle", "Association Bouge ton quartier",
    "Association La Ruche solidaire", "Collectif Les Mésanges du parc", "Association Horizons partagés",
    "Association Pas à pas", "Association Entre deux rives", "Association Le Lien", "Collectif Table ouverte",
    "Association Clé de sol", "Association Ricochet",
]

STAGES = ["idee", "test", "financement", "lancement", "croissance"]
STAGE_WEIGHTS = {"idee": 0.21, "test": 0.2, "financement": 0.24, "lancement": 0.19, "croissance": 0.16}
LEGAL_STRUCTURE_P = {"idee": 0.1, "test": 0.25, "financement": 0.8, "lancement": 0.92, "croissance": 0.97}

STAGE_SENTENCES = {
    "idee": [
        "Pour l'instant, ce n'est qu'une idée partagée entre quelques voisins.",
        "Le projet est encore sur le papier : nous en parlons depuis quelques mois autour d'un café.",
        "Nous sommes au tout début, avec une poignée de motivés et beaucoup d'envies.",
        "Rien n'est encore lancé, nous réfléchissons à la meilleure façon de nous y prendre.",
        "L'idée est née lors d'une réunion de quartier et elle mûrit doucement.",
    ],
    "test": [
        "Nous avons fait un premier essai cet été et les retours sont encourageants.",
        "Avant d'aller plus loin, nous voulons confronter le projet à la réalité.",
        "Une version pilote tourne depuis deux mois avec une vingtaine d'habitants.",
        "Nous expérimentons le concept un samedi sur deux pour voir si le public suit.",
        "C'est le moment de vérifier sur le terrain que l'idée tient la route.",
    ],
    "financement": [
        "Le projet est prêt, il reste à trouver l'argent pour démarrer.",
        "Nous cherchons à boucler notre budget avant l'ouverture.",
        "Le plan de financement est presque complet, mais il manque encore une partie de la somme.",
        "Nos essais ont convaincu ; il faut maintenant financer le matériel et les travaux.",
        "Tout est calé sauf l'argent : c'est le dernier verrou.",
    ],
    "lancement": [
        "L'activité démarre dans les prochaines semaines.",
        "Nous ouvrons nos portes au printemps et recrutons nos premiers bénévoles réguliers.",
        "L'activité vient de démarrer et tout s'organise au fil de l'eau.",
        "Les premiers usagers arrivent : place au démarrage concret.",
        "Nous venons d'embaucher notre première salariée et accueillons nos premiers usagers.",
    ],
    "croissance": [
        "Après trois ans d'activité, nous voulons ouvrir un deuxième lieu.",
        "L'activité tourne bien et l'équipe s'agrandit : il faut changer d'échelle.",
        "La demande dépasse nos capacités et nous voulons essaimer dans les villes voisines.",
        "Nous accueillons désormais plus de deux cents personnes par mois et devons nous structurer pour grandir.",
        "Le modèle a fait ses preuves ; nous voulons le reproduire dans d'autres quartiers.",
    ],
}

LEGAL_SENTENCES = {
    True: [
        "Notre association est déclarée en préfecture depuis {year}.", "Nous sommes constitués en SCIC depuis {year}.",
        "La structure existe officiellement depuis {year}.",
    ],
    False: [
        "Nous ne sommes pas encore constitués en association.", "Le groupe n'a pas encore de statut officiel.",
        "Aucune structure n'est encore créée : nous sommes un collectif informel.",
    ],
}

# What the project really needs, in the holder's words ({amount}, {small}, {goal}: euros).
OFFERING_NEED_SENTENCES = {
    "msbm-atelier-idee": [
        "Nous aimerions être aidés à poser notre modèle économique : qui paiera, combien, et comment tenir dans la durée.",
        "Avant tout, il faudrait structurer l'idée et vérifier qu'elle répond à un vrai besoin.",
        "Il nous manque un regard extérieur pour transformer notre intuition en projet solide.",
        "Nous cherchons un atelier pour clarifier notre public, notre offre et nos ressources.",
        "Il nous faudrait une méthode pour passer de l'envie à un projet qui tient debout.",
    ],
    "atelier-idf-incubation": [
        "Nous aimerions être accompagnés sur plusieurs mois, dans un parcours collectif avec d'autres porteurs de "
        "projets de l'économie sociale.",
        "Aucun de nous n'a jamais créé de structure : une formation à l'entrepreneuriat social nous serait précieuse.",
        "Nous cherchons un programme d'incubation pour apprendre la gouvernance, le modèle économique et le choix du statut.",
        "Être entourés de gens qui ont déjà fait ce chemin nous rassurerait beaucoup.",
        "Nous voudrions apprendre les bases : construire un budget, choisir un statut, trouver nos premiers partenaires.",
    ],
    "msbm-test": [
        "On voudrait tester l'idée sur quelques semaines avec de vrais usagers avant de nous lancer pour de bon.",
        "Nous cherchons un cadre pour expérimenter grandeur nature et mesurer si ça marche vraiment.",
        "Il nous faudrait un programme qui nous aide à construire un prototype et à recueillir les retours du public.",
        "Nous voudrions être accompagnés pour mener un essai grandeur nature et en tirer des leçons.",
        "Un accompagnement pour organiser un essai, analyser les résultats et ajuster l'offre serait idéal.",
    ],
    "kisskissbankbank-prevente": [
        "Pour vérifier l'intérêt, nous aimerions proposer des précommandes aux habitants et voir si elles partent.",
        "Nous pensons lancer une petite campagne avec contreparties pour tester la demande et réunir nos premiers soutiens.",
        "Si cinquante personnes paient d'avance leur premier panier, nous saurons que le projet a un public.",
        "Une prévente sur internet nous permettrait à la fois de tester l'offre et de financer la première série.",
    ],
    "sceaux-smart-salle": [
        "Il nous faudrait une salle pour accueillir nos ateliers une fois par semaine.",
        "Nous cherchons un lieu pour réunir vingt personnes le soir, avec un écran pour présenter le projet.",
        "Nous n'avons nulle part où organiser nos réunions d'équipe et nos rencontres avec le public.",
        "Louer une pièce quelques heures par mois suffirait pour nos séances avec les habitants.",
    ],
    "banque-postale-pret": [
        "Nous préparons une demande de prêt de {amount} € pour acheter le matériel et financer les travaux.",
        "Il nous manque un emprunt bancaire pour financer l'aménagement et le premier stock.",
        "Nous cherchons une banque qui comprenne l'économie sociale et accepte de nous prêter sur cinq ans.",
        "Notre plan de financement prévoit un crédit de {amount} €, mais nous n'avons pas encore d'interlocuteur bancaire.",
        "Nos fonds propres ne suffisent pas : il faut emprunter pour acheter le véhicule de collecte.",
    ],
    "banque-postale-microcredit": [
        "Un petit prêt de quelques milliers d'euros suffirait pour démarrer, mais aucune banque ne veut nous suivre.",
        "Nous avons besoin de {small} € pour le premier équipement et nos revenus ne rassurent pas les banques classiques.",
        "Sans apport ni historique, il nous faut un petit crédit avec un accompagnement.",
        "Il manque juste {small} € pour lancer l'activité, une somme trop modeste pour intéresser un banquier.",
    ],
    "kisskissbankbank-don": [
        "Nous voulons mobiliser les habitants et notre réseau pour réunir une partie du budget.",
        "Nous pensons lancer une collecte sur internet auprès du public, avec de petits cadeaux pour remercier les donateurs.",
        "Une campagne de financement participatif nous permettrait aussi de faire connaître le projet.",
        "Nous aimerions que le quartier participe au financement, même avec de petites sommes.",
        "L'idée serait de réunir {goal} € auprès de nos sympathisants, en ligne, en quarante jours.",
    ],
    "hdsi-garantie": [
        "La banque est d'accord sur le principe, mais elle nous demande une caution que nous n'avons pas.",
        "Notre banquier hésite et voudrait que quelqu'un se porte garant pour le prêt.",
        "Le prêt est presque accordé, à condition de trouver une garantie pour sécuriser l'emprunt.",
        "Aucun de nous ne peut se porter caution personnellement : il nous faudrait un organisme qui garantisse le crédit.",
        "La banque exige une garantie sur la moitié du prêt, c'est ce qui bloque tout.",
    ],
    "hdsi-pret-honneur": [
        "Il nous manque un apport personnel pour que la banque accepte de suivre.",
        "Nous cherchons un prêt sans intérêt pour les fondateurs afin de renforcer nos fonds propres.",
        "Un prêt à taux zéro, sans garantie, nous permettrait de déclencher le crédit bancaire.",
        "Nos économies ne suffisent pas comme mise de départ : il faudrait un coup de pouce remboursable sans intérêts.",
    ],
    "atelier-idf-formation": [
        "Nous nous sentons un peu seuls face à la gestion d'une structure employeuse et aimerions nous former.",
        "L'équipe aurait besoin de formations courtes sur la gestion, la gouvernance et le recrutement.",
        "Passer de bénévoles à employeurs nous inquiète ; une formation nous aiderait à éviter les erreurs.",
        "Nous aimerions rejoindre un réseau d'entrepreneurs sociaux pour apprendre des autres.",
    ],
    "sceaux-smart-bureaux": [
        "Il nous faut un endroit pour travailler à trois, nous faisons tout depuis nos cuisines.",
        "Nous cherchons quelques postes de travail à louer, avec internet et une salle de réunion à partager.",
        "L'équipe s'agrandit et nous n'avons plus de place : il nous faudrait des bureaux à Sceaux ou tout près.",
        "Une adresse professionnelle et un lieu pour recevoir nos partenaires nous manquent cruellement.",
        "Nous travaillons dans un café faute de mieux ; un espace partagé et abordable changerait tout.",
    ],
}

# Short hints about what will be needed at the next stage.
OFFERING_NEXT_HINTS = {
    "msbm-test": [
        "Ensuite, nous aimerions tester le concept en conditions réelles.",
        "Plus tard, il faudra une phase d'essai avec de vrais usagers.",
    ],
    "atelier-idf-incubation": [
        "Par la suite, un accompagnement dans la durée nous aiderait.",
        "Ensuite, nous aimerions suivre un parcours pour créer la structure.",
    ],
    "kisskissbankbank-prevente": [
        "Ensuite, nous pensons vendre nos premiers produits en précommande.",
        "Plus tard, une prévente nous dira si le public suit.",
    ],
    "sceaux-smart-salle": [
        "Plus tard, il faudra une salle pour nos rencontres.",
        "À terme, nous aurons besoin d'une salle de réunion de temps en temps.",
    ],
    "banque-postale-pret": [
        "À terme, il faudra sans doute emprunter pour le matériel.", "Ensuite viendra la question du prêt bancaire.",
    ],
    "banque-postale-microcredit": [
        "Plus tard, un petit prêt nous aidera à acheter l'équipement.",
        "Ensuite, quelques milliers d'euros empruntés suffiront pour démarrer.",
    ],
    "kisskissbankbank-don": [
        "À terme, nous comptons sur la générosité du quartier pour compléter le budget.",
        "Ensuite, nous pensons faire appel aux dons des habitants.",
    ],
    "hdsi-garantie": [
        "Nous savons que la banque demandera des garanties le moment venu.",
        "Plus tard, il faudra rassurer la banque sur le remboursement.",
    ],
    "hdsi-pret-honneur": [
        "Il nous faudra aussi renforcer notre apport personnel.",
        "Ensuite, il faudra compléter la mise de départ des fondateurs.",
    ],
    "atelier-idf-formation": [
        "Ensuite, il faudra nous former à la gestion d'une structure.",
        "Plus tard, l'équipe devra apprendre son rôle d'employeur.",
    ],
    "sceaux-smart-bureaux": [
        "À terme, il nous faudra un vrai lieu de travail pour l'équipe.",
        "Plus tard, nous chercherons des bureaux partagés.",
    ],
}

# Offerings a project may really need, by stage: (offering id, weight, needs a legal structure).
STAGE_OFFERINGS = {
    "idee": [("msbm-atelier-idee", 0.55, False), ("atelier-idf-incubation", 0.45, False)],
    "test": [
        ("msbm-test", 0.5, False),
        ("atelier-idf-incubation", 0.2, False),
        ("kisskissbankbank-prevente", 0.15, False),
        ("sceaux-smart-salle", 0.15, False),
    ],
    "financement": [
        ("banque-postale-pret", 0.22, True),
        ("hdsi-garantie", 0.22, True),
        ("hdsi-pret-honneur", 0.18, True),
        ("kisskissbankbank-don", 0.22, False),
        ("banque-postale-microcredit", 0.1, False),
        ("kisskissbankbank-prevente", 0.06, False),
    ],
    "lancement": [
        ("sceaux-smart-bureaux", 0.4, False),
        ("atelier-idf-formation", 0.25, False),
        ("hdsi-pret-honneur", 0.12, True),
        ("banque-postale-pret", 0.08, True),
        ("banque-postale-microcredit", 0.05, False),
        ("sceaux-smart-salle", 0.1, False),
    ],
    "croissance": [("sceaux-smart-bureaux", 0.7, False), ("sceaux-smart-salle", 0.3, False)],
}

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]

# Per-need availability of member hours, days and loads.
HOURS_WEIGHTS = {1: 18, 2: 24, 3: 18, 4: 12, 5: 9, 6: 6, 7: 4, 8: 4, 9: 2, 10: 3}
TRUTH_EXPANSION_LIMIT = 2_000_000  # beyond this many (need, member) pairs, need_members is not expanded on disk

# fmt: on

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def load_communes(path: Path = COMMUNES_CSV) -> dict[str, dict]:
    """Commune name -> row of ``communes_92.csv`` (postcode, insee, lat, lon)."""
    with path.open(encoding="utf-8", newline="") as f:
        return {row["commune"]: row for row in csv.DictReader(f)}


def de_lieu(commune: str) -> str:
    """'de Sceaux', "d'Antony", 'du Plessis-Robinson'."""
    if commune.startswith("Le "):
        return "du " + commune[3:]
    if commune.startswith("La "):
        return "de la " + commune[3:]
    if commune[0] in "AEIOUYÉÈÂ" or commune.startswith("L'"):
        return ("de " + commune) if commune.startswith("L'") else ("d'" + commune)
    return "de " + commune


def a_lieu(commune: str) -> str:
    """'à Sceaux', 'au Plessis-Robinson'."""
    if commune.startswith("Le "):
        return "au " + commune[3:]
    return "à " + commune


def ascii_slug(text: str) -> str:
    """'Aïcha' -> 'aicha' (for fictional e-mails)."""
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return "".join(c if c.isalnum() else "-" for c in flat)


def french_date(day: dt.date) -> str:
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def euros(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def quotas(weights: dict[str, float], total: int) -> list[str]:
    """Largest-remainder allocation of ``total`` slots to keys, in key order."""
    norm = sum(weights.values())
    exact = {k: total * w / norm for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    rest = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], list(weights).index(k)))[:rest]:
        counts[k] += 1
    return [k for k in weights for _ in range(counts[k])]


def stage_plan(n: int) -> list[str]:
    """Stages of ``n`` projects: weighted, with at least 8 per stage when n >= 40."""
    plan = quotas(STAGE_WEIGHTS, n)
    if n >= 40:
        counts = {s: plan.count(s) for s in STAGES}
        for s in STAGES:
            while counts[s] < 8:
                donor = max(STAGES, key=lambda k: counts[k])
                counts[donor] -= 1
                counts[s] += 1
        plan = [s for s in STAGES for _ in range(counts[s])]
    return plan


def choose_offering(rng: random.Random, stage: str | None, legal_structure: bool) -> str | None:
    """An offering of ``stage`` the project is eligible for, or None after the last stage."""
    if stage is None:
        return None
    options = [(oid, w) for oid, w, needs_ls in STAGE_OFFERINGS[stage] if legal_structure or not needs_ls]
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


# --------------------------------------------------------------------------------------
# Members
# --------------------------------------------------------------------------------------


LIFE_STATUS = {
    "retired": re.compile(r"[Rr]etraité|à la retraite"),
    "student": re.compile(r"Étudiant"),
    "working": re.compile(r"[Jj]e travaille|en activité|Intermittent"),
}


def life_status(fragment: str) -> str | None:
    """'retired', 'working', 'student' or None when the fragment does not tell."""
    for status, pattern in LIFE_STATUS.items():
        if pattern.search(fragment):
            return status
    return None


def make_member(
    rng: random.Random, index: int, width: int, primary: str, communes: dict[str, dict], emails: dict[str, int]
) -> tuple[dict, list[str]]:
    """One fictional member and their hidden families (primary first)."""
    first, gender = rng.choice(FIRST_NAMES)
    g = GENDER_FORMS[gender]
    initial = rng.choice(INITIALS)
    families = [primary]
    if rng.random() < 0.25:
        families.append(rng.choice([f for f in FAMILIES if f != primary]))
    fam = FAMILIES[primary]

    commune = weighted(rng, MEMBER_COMMUNE_WEIGHTS)
    ctx = dict(g, a_commune=a_lieu(commune), years=rng.randint(2, 30))

    status: list[str | None] = [None]  # life situation of the person, fixed by the first fragment that tells it

    def pick(pool: list[str]) -> str | None:
        """A fragment of ``pool`` consistent with the person's situation (retired, working, student)."""
        options = [f for f in pool if life_status(f) in (None, status[0])] if status[0] else pool
        if not options:
            return None
        choice = rng.choice(options)
        status[0] = status[0] or life_status(choice)
        return choice

    skills = [pick(fam["skills"])]
    if rng.random() < 0.33:
        skills.append(pick([f for f in fam["skills"] if f not in skills]))
    bios = []
    if rng.random() < 0.8:
        bios.append(pick(fam["bios"]))
    if len(families) > 1:
        sec = FAMILIES[families[1]]
        if rng.random() < 0.7:
            skills.append(pick(sec["skills"]))
        else:
            bios.append(pick(sec["bios"]))
    if rng.random() < 0.7:
        bios.append(pick(GENERIC_BIOS))
    skills = [f for f in skills if f]
    bios = [f for f in bios if f]
    rng.shuffle(bios)
    if rng.random() < 0.05:  # some people only write a bio
        bios = skills + bios
        skills = []
    skills_text = " ".join(s.format(**ctx) for s in skills)
    bio_text = " ".join(b.format(**ctx) for b in bios)

    n_tags = rng.choices([0, 1, 2, 3, 4], weights=[10, 25, 30, 25, 10])[0]
    pool = list(fam["tags"]) + (FAMILIES[families[1]]["tags"][:2] if len(families) > 1 else [])
    tags = rng.sample(pool, min(n_tags, len(pool)))

    related = FAMILIES[primary]["causes"]
    causes: list[str] = []
    for _ in range(rng.choices([0, 1, 2, 3], weights=[25, 35, 28, 12])[0]):
        cause = rng.choice(related) if rng.random() < 0.6 else rng.choice(CAUSES)
        if cause not in causes:
            causes.append(cause)

    n_days = rng.choices([1, 2, 3, 4, 5, 7], weights=[20, 30, 25, 10, 8, 7])[0]
    days = sorted(rng.sample(WEEKDAYS, n_days), key=WEEKDAYS.index)
    max_eng = rng.choices([1, 2, 3], weights=[45, 35, 20])[0]
    active = 0 if rng.random() < 0.7 else rng.randint(1, max_eng)

    local = f"{ascii_slug(first)}.{initial.lower()}"
    emails[local] = emails.get(local, 0) + 1
    if emails[local] > 1:
        local += str(emails[local])

    member = {
        "id": f"m{index:0{width}d}",
        "display_name": f"{first} {initial}.",
        "skills": skills_text,
        "skill_tags": tags,
        "bio": bio_text,
        "hours_per_week": weighted(rng, HOURS_WEIGHTS),
        "days": days,
        "commune": commune,
        "postcode": communes[commune]["postcode"],
        "remote_ok": rng.random() < 0.6,
        "causes": causes,
        "consent": rng.random() < 0.85,
        "max_engagements": max_eng,
        "active_engagements": active,
        "email": f"{local}@example.org",
    }
    if not (skills_text or bio_text or tags):
        member["skill_tags"] = [fam["tags"][0]]
    return member, families


def available(member: dict) -> bool:
    """Consents and is not at full load: may be suggested for a need."""
    return member["consent"] and member["active_engagements"] < member["max_engagements"]


# --------------------------------------------------------------------------------------
# Projects and needs
# --------------------------------------------------------------------------------------


def need_practical(rng: random.Random, hours: int, remote: bool, deadline: dt.date | None) -> str:
    """A short sentence on time, distance and deadline, or ''."""
    if rng.random() < 0.3:
        return ""
    if hours == 1:
        part = rng.choice(["Environ une heure par semaine", "Une heure par semaine suffit"])
    else:
        part = rng.choice(
            [f"Environ {hours} heures par semaine", f"Compter {hours} h par semaine", f"{hours} h par semaine environ"]
        )
    if remote:
        part += rng.choice([", possible à distance", ", en partie depuis chez soi", ", faisable à distance"])
    if deadline:
        part += rng.choice([f", idéalement avant le {french_date(deadline)}", f" ; échéance : {french_date(deadline)}"])
    return part + "."


def make_need(rng: random.Random, need_id: str, family: str) -> dict:
    title, text = rng.choice(FAMILIES[family]["needs"])
    hours = rng.choices([1, 2, 3, 4, 5, 6], weights=[20, 30, 22, 14, 8, 6])[0]
    remote = FAMILIES[family]["remote"] and rng.random() < 0.75
    deadline = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(365)) if rng.random() < 0.5 else None
    practical = need_practical(rng, hours, remote, deadline)
    return {
        "id": need_id,
        "title": title,
        "text": f"{text} {practical}".strip(),
        "hours_per_week": hours,
        "remote": remote,
        "deadline": deadline.isoformat() if deadline else None,
        "status": "open" if rng.random() < 0.85 else "closed",
        "headcount": rng.choices([1, 2], weights=[80, 20])[0],
    }


def need_families(rng: random.Random, ptype: dict) -> list[str]:
    """1 to 3 distinct families for a project's needs, mostly from its type."""
    k = rng.choices([1, 2, 3], weights=[35, 40, 25])[0]
    chosen: list[str] = []
    first = ptype["families"][0] if rng.random() < 0.6 else rng.choice(ptype["families"])
    chosen.append(first)
    while len(chosen) < k:
        pool = SUPPORT_FAMILIES if rng.random() < 0.2 else ptype["families"]
        fam = rng.choice(pool)
        if fam not in chosen:
            chosen.append(fam)
    return chosen


def project_place(rng: random.Random) -> tuple[str, str, str]:
    """(commune, 'de ...', 'à ...') for a project, sometimes a Sceaux neighbourhood."""
    commune = weighted(rng, PROJECT_COMMUNE_WEIGHTS)
    if commune == "Sceaux" and rng.random() < 0.4:
        de, a = rng.choice(SCEAUX_QUARTIERS)
        return commune, de, a
    return commune, de_lieu(commune), a_lieu(commune)


def make_project(
    rng: random.Random, index: int, width: int, stage: str, member_ids: list[str], seen_titles: set[str]
) -> tuple[dict, dict, dict]:
    """One project, its hidden needs' families and its hidden offerings."""
    pid = f"p{index:0{width}d}"
    for _ in range(12):  # avoid duplicate titles while there is room
        ptype = rng.choice(PROJECT_TYPES)
        commune, de, a = project_place(rng)
        title = rng.choice(ptype["titles"]).format(de=de)
        if title not in seen_titles:
            break
    seen_titles.add(title)
    legal = rng.random() < LEGAL_STRUCTURE_P[stage]
    current = choose_offering(rng, stage, legal)
    next_stage = Stage(stage).next()
    nxt = choose_offering(rng, next_stage.value if next_stage else None, legal)

    amounts = {
        "amount": euros(rng.randrange(15, 85, 5) * 1000),
        "small": euros(rng.randrange(3, 13) * 1000),
        "goal": euros(rng.randrange(5, 26) * 1000),
    }
    sentences = [rng.choice(ptype["intros"]).format(a=a)]
    if rng.random() < 0.85:
        sentences.append(rng.choice(STAGE_SENTENCES[stage]))
    sentences.append(rng.choice(OFFERING_NEED_SENTENCES[current]).format(**amounts))
    extra = rng.random()
    if extra < 0.35 and nxt and nxt != current:
        sentences.append(rng.choice(OFFERING_NEXT_HINTS[nxt]))
    elif extra < 0.6:
        sentences.append(rng.choice(LEGAL_SENTENCES[legal]).format(year=rng.randint(2012, 2025)))

    causes = list(ptype["causes"])
    if rng.random() < 0.3:
        extra_cause = rng.choice(CAUSES)
        if extra_cause not in causes:
            causes.append(extra_cause)
    holder = rng.choice(member_ids) if member_ids and rng.random() < 0.35 else rng.choice(ASSOCIATIONS)

    fams = need_families(rng, ptype)
    needs = [make_need(rng, f"{pid}-n{i + 1}", fam) for i, fam in enumerate(fams)]
    project = {
        "id": pid,
        "title": title,
        "description": " ".join(sentences),
        "stage": stage,
        "causes": causes,
        "commune": commune,
        "holder": holder,
        "legal_structure": legal,
        "needs": needs,
    }
    return project, {n["id"]: f for n, f in zip(needs, fams, strict=True)}, {"current": current, "next": nxt}


# --------------------------------------------------------------------------------------
# Assembly, validation, output
# --------------------------------------------------------------------------------------


def ensure_coverage(members: list[dict], member_family: dict[str, list[str]], needed: set[str], minimum: int = 3) -> list[str]:
    """Make at least ``minimum`` members available in each needed family; return families short of it."""
    short = []
    by_family: dict[str, list[dict]] = {}
    for m in members:
        for fam in member_family[m["id"]]:
            by_family.setdefault(fam, []).append(m)
    for fam in sorted(needed):
        pool = by_family.get(fam, [])
        count = sum(available(m) for m in pool)
        for m in pool:
            if count >= minimum:
                break
            if not available(m):
                m["consent"] = True
                m["active_engagements"] = 0
                count += 1
        if count < minimum:
            short.append(fam)
    return short


def validate(document: dict) -> None:
    """Validate every object with ``matching.domain``; raise on the first error."""
    Territory.model_validate(document["territory"])
    for p in document["partners"]:
        Partner.model_validate(p)
    for m in document["members"]:
        Member.model_validate(m)
    for p in document["projects"]:
        Project.model_validate(p)
    for kind in ("members", "projects"):
        ids = [o["id"] for o in document[kind]]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{kind}: identifiants en double")
    offering_ids = {o["id"]: o for p in document["partners"] for o in p["offerings"]}
    for oid in OFFERING_NEED_SENTENCES:
        if oid not in offering_ids:
            raise ValueError(f"offre inconnue dans les phrases : {oid}")
    for fam in FAMILIES.values():
        for title, _ in fam["needs"]:
            if len(title) > 80:
                raise ValueError(f"titre de besoin trop long : {title}")


def generate(members: int = 320, projects: int = 64, seed: int = 42) -> tuple[dict, dict]:
    """Build the territory document and its truth; both validated, deterministic for a seed.

    In the returned truth, ``need_members[need]`` is the same list object as
    ``family_members[family]`` for the need's family (cheap at scale): do not mutate it.
    """
    if members < 1 or projects < 0:
        raise ValueError("members >= 1 and projects >= 0 required")
    communes = load_communes()
    for name in list(MEMBER_COMMUNE_WEIGHTS) + TERRITORY_COMMUNES:
        if name not in communes:
            raise ValueError(f"commune absente de {COMMUNES_CSV.name} : {name}")

    rng_members = random.Random(f"{seed}:members")
    rng_projects = random.Random(f"{seed}:projects")

    # Members: primary families by quota (balanced), then shuffled.
    primaries = quotas(FAMILY_WEIGHTS, members)
    rng_members.shuffle(primaries)
    width_m = max(5, len(str(members)))
    emails: dict[str, int] = {}
    member_list, member_family = [], {}
    for i, primary in enumerate(primaries, start=1):
        m, fams = make_member(rng_members, i, width_m, primary, communes, emails)
        member_list.append(m)
        member_family[m["id"]] = fams

    # Projects.
    plan = stage_plan(projects)
    rng_projects.shuffle(plan)
    width_p = max(4, len(str(projects)))
    member_ids = [m["id"] for m in member_list]
    seen_titles: set[str] = set()
    project_list, need_family, project_stage, project_offerings = [], {}, {}, {}
    for i, stage in enumerate(plan, start=1):
        p, nf, offers = make_project(rng_projects, i, width_p, stage, member_ids, seen_titles)
        project_list.append(p)
        need_family.update(nf)
        project_stage[p["id"]] = stage
        project_offerings[p["id"]] = offers

    open_needs = [n for p in project_list for n in p["needs"] if n["status"] == "open"]
    short = ensure_coverage(member_list, member_family, {need_family[n["id"]] for n in open_needs})

    family_members: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for m in member_list:
        if available(m):
            for fam in member_family[m["id"]]:
                family_members[fam].append(m["id"])

    document = {
        "territory": dict(TERRITORY, communes=list(TERRITORY_COMMUNES)),
        "partners": copy.deepcopy(PARTNERS),
        "members": member_list,
        "projects": project_list,
    }
    validate(document)
    for pid, offers in project_offerings.items():  # hidden offerings are consistent with stage and eligibility
        assert offers["current"] in {o for o, _, _ in STAGE_OFFERINGS[project_stage[pid]]}

    truth = {
        "seed": seed,
        "sizes": {"members": members, "projects": projects},
        "families": {k: v["label"] for k, v in FAMILIES.items()},
        "member_family": member_family,
        "need_family": need_family,
        "need_members": {n["id"]: family_members[need_family[n["id"]]] for n in open_needs},
        "family_members": family_members,
        "project_stage": project_stage,
        "project_offerings": project_offerings,
        "short_families": short,
    }
    return document, truth


def write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def truth_for_disk(truth: dict) -> dict:
    """Truth as written: ``need_members`` is dropped when it would be huge (see family_members)."""
    pairs = sum(len(v) for v in truth["need_members"].values())
    if pairs <= TRUTH_EXPANSION_LIMIT:
        return truth
    compact = {k: v for k, v in truth.items() if k != "need_members"}
    compact["need_members_omitted"] = (
        f"{pairs} paires : need_members[n] = family_members[need_family[n]] pour chaque besoin ouvert"
    )
    return compact


def summary(document: dict, truth: dict, seconds: float) -> str:
    stages = {s: 0 for s in STAGES}
    for s in truth["project_stage"].values():
        stages[s] += 1
    needs = [n for p in document["projects"] for n in p["needs"]]
    open_needs = [n for n in needs if n["status"] == "open"]
    per_need = [len(truth["need_members"][n["id"]]) for n in open_needs]
    lines = [
        f"{len(document['members'])} membres, {len(document['projects'])} projets, {len(needs)} besoins "
        f"({len(open_needs)} ouverts), {sum(len(p['offerings']) for p in document['partners'])} offres, "
        f"{len(truth['families'])} familles",
        "étapes : " + ", ".join(f"{s} {n}" for s, n in stages.items()),
        f"membres pertinents par besoin ouvert : min {min(per_need, default=0)}, max {max(per_need, default=0)}",
        f"généré et validé en {seconds:.1f} s",
    ]
    if truth["short_families"]:
        lines.append("ATTENTION, familles avec moins de 3 membres disponibles : " + ", ".join(truth["short_families"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Génère le territoire fictif Sceaux Valley (membres, projets, besoins, partenaires) "
        "et sa vérité terrain, de façon déterministe pour une graine donnée. Toutes les personnes sont fictives.",
        epilog="exemples :\n  .venv/bin/python data/generate_demo.py\n"
        "  .venv/bin/python data/generate_demo.py --members 100000 --projects 20000 "
        "--out /tmp/big.json --truth /tmp/big-truth.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--members", type=int, default=320, help="nombre de membres (défaut : 320)")
    parser.add_argument("--projects", type=int, default=64, help="nombre de projets (défaut : 64)")
    parser.add_argument("--seed", type=int, default=42, help="graine aléatoire (défaut : 42)")
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "demo" / "sceaux-valley.json",
        help="document du territoire (défaut : data/demo/sceaux-valley.json)",
    )
    parser.add_argument(
        "--truth", type=Path, default=HERE / "demo" / "truth.json", help="vérité terrain (défaut : data/demo/truth.json)"
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    document, truth = generate(args.members, args.projects, args.seed)
    elapsed = time.perf_counter() - start
    write_json(args.out, document)
    write_json(args.truth, truth_for_disk(truth))
    print(summary(document, truth, elapsed), file=sys.stderr)
    print(
        f"écrit : {args.out} ({args.out.stat().st_size // 1024} Kio), {args.truth} "
        f"({args.truth.stat().st_size // 1024} Kio) en {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
