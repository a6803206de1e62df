"""Prompt-injection phrases in the other languages our agents relay: de, fr, es, it, pt, nl.

Each language has the same two shapes as the English rules. An override: a verb that sets
instructions aside (ignore, forget, disregard, no longer follow...) and instruction nouns that are
earlier ("the previous rules", "les consignes initiales") or the reader's own ("deine Regeln",
"tus reglas"). A persona switch ("du bist jetzt", "a partir de ahora eres") near a claim that it
has no rules ("ohne Einschränkungen", "sin restricciones") or a jailbreak name (DAN).

Patterns accept text with or without accents ("regles precedentes"), since people type both.
Hints are ASCII word tokens (accented words split into ASCII pieces when tokenised), so a text in
English or without these verbs skips every rule here with one set intersection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Phrase:
    """One language's pattern, the hints that gate it, and hints that must also be present."""

    name: str
    pattern: str
    hints: tuple[str, ...]
    requires: tuple[str, ...] = ()


def _override(verb: str, det: str, own: str, temporal: str, noun: str) -> str:
    # verb [det...] (own | temporal) [one word] noun, or verb [det...] [own] noun temporal
    # (adjectives follow the noun in the Romance languages: "les consignes initiales").
    return (rf"\b(?:{verb})\s+(?:(?:{det})\s+){{0,2}}"
            rf"(?:(?:(?:{own})\s+(?:(?:{temporal})\s+)?|(?:{temporal})\s+)(?:[\w'-]+\s+)?(?:{noun})"
            rf"|(?:(?:{own})\s+)?(?:{noun})\s+(?:[\w'-]+\s+)?(?:{temporal}))\b")


# --- German --------------------------------------------------------------------------------
_DE_VERB = (r"ignorier(?:e|en|t)?|missacht(?:e|en|et)|vergiss|vergesst|vergessen\s+sie|verwirf"
            r"|verwerfen\s+sie|[üu]e?bergeh(?:e|en|t)|umgeh(?:e|en|t)|[üu]e?berschreib(?:e|en|t)"
            r"|l[öo]e?sch(?:e|en|t)|streich(?:e|en|t)|setze?\s+au[sß]er\s+kraft")
_DE_DET = r"alle|all|die|der|den|s[äa]e?mtliche|jegliche|jede|diese"
_DE_OWN = r"deine[nr]?|ihre[nr]?|eure[nr]?"
_DE_TEMPORAL = (r"vorherigen?|bisherigen?|obigen?|vorangegangenen?|vorangehenden?|fr[üu]e?heren?"
                r"|urspr[üu]e?nglichen?|alten?|vorigen?|anf[äa]e?nglichen?|oben\s+genannten?"
                r"|erhaltenen?|gegebenen?|ersten|initialen?")
_DE_NOUN = (r"\w*(?:anweisung|instruktion|regel|richtlinie|vorgabe|befehl|anordnung|prompt"
            r"|einschr[äa]e?nkung|beschr[äa]e?nkung|direktive|leitlinie|vorschrift)\w*")
_DE_NO_LONGER = (rf"\b(?:befolge|befolgt|befolgen\s+sie|beachte|beachtet|folge)\s+(?:(?:{_DE_DET}|{_DE_OWN}"
                 rf"|{_DE_TEMPORAL})\s+){{0,3}}{_DE_NOUN}\s+nicht\s+mehr\b"
                 rf"|\b(?:halte\s+dich|haltet\s+euch|halten\s+sie\s+sich)\s+nicht\s+(?:mehr|l[äa]e?nger)"
                 rf"\s+an\s+(?:(?:{_DE_DET}|{_DE_OWN}|{_DE_TEMPORAL})\s+){{0,3}}{_DE_NOUN}"
                 r"|\bvergiss\s+alles\b[^.\n]{0,40}?\b(?:vorher|bisher|zuvor|oben|davor)\b")

# --- French --------------------------------------------------------------------------------
_FR_VERB = (r"ignore[zr]?|oublie[zr]?|n[ée]glige[zr]?|[ée]carte[zr]?|annule[zr]?|outrepasse[zr]?"
            r"|contourne[zr]?|passe[zr]?\s+outre(?:\s+[àa])?|fai(?:s|tes)\s+abstraction\s+d[eu]s?"
            r"|laisse[zr]?\s+tomber|ne\s+(?:tiens|tenez)\s+(?:plus|pas)\s+compte\s+d[eu]s?"
            r"|ne\s+(?:suis|suivez|respecte[sz]?|applique[sz]?|ob[ée]is|ob[ée]issez)\s+plus(?:\s+(?:[àa]|aux))?"
            r"|abandonne[zr]?|efface[zr]?|jette[zr]?|rejette[zr]?|d[ée]sob[ée]is(?:sez)?\s+[àa]ux?")
_FR_DET = r"toutes|tous|les|ces|la|le|l'|d'|de|des|aux|[àa]"
_FR_OWN = r"tes|vos|ton|ta|votre"
_FR_TEMPORAL = (r"pr[ée]c[ée]dent(?:e|s|es)?|ant[ée]rieur(?:e|s|es)?|initia(?:l|le|ux|les)"
                r"|originel(?:le)?s?|d'origine|origina(?:l|le|ux|les)|ci-dessus|plus\s+haut|d'avant"
                r"|ancien(?:ne)?s?|premi[èe]re?s?|re[çc]u(?:e|s|es)?|donn[ée](?:e|s|es)?"
                r"|(?:du\s+)?syst[èe]me")
_FR_NOUN = (r"instructions?|consignes?|r[èe]gles?|directives?|ordres?|indications?|restrictions?"
            r"|prompts?|limites?|lignes\s+directrices|r[èe]glements?|garde-fous")

# --- Spanish -------------------------------------------------------------------------------
_ES_VERB = (r"ignora|ignore|ignorad|ignorar|olvida|olvide|olvidad|olvidar|olv[íi]date\s+de"
            r"|descarta|descarte|omite|omita|pasa\s+por\s+alto|pase\s+por\s+alto"
            r"|haz\s+caso\s+omiso\s+(?:de|a)|haga\s+caso\s+omiso\s+(?:de|a)|no\s+hagas\s+caso\s+(?:de|a)"
            r"|deja\s+de\s+lado|deja\s+de\s+(?:seguir|obedecer|cumplir|respetar)|desobedece"
            r"|anula|s[áa]ltate|elimina|borra|no\s+(?:sigas|obedezcas|cumplas|respetes)(?:\s+m[áa]s)?")
_ES_DET = r"todas|todos|las|los|estas|esas|el|la|lo"
_ES_OWN = r"tus|sus|tu|su"
_ES_TEMPORAL = (r"anteriores|previas|previos|iniciales|originales|de\s+arriba|precedentes"
                r"|pasad[ao]s|antigu[ao]s|primer[ao]s|recibid[ao]s|dad[ao]s|del\s+sistema|de\s+antes")
_ES_NOUN = (r"instrucciones|indicaciones|reglas|normas|directrices|[óo]rdenes|consignas"
            r"|restricciones|pautas|directivas|prompts?|mensajes?\s+del?\s+sistema|limitaciones")

# --- Italian -------------------------------------------------------------------------------
_IT_VERB = (r"ignora|ignorate|ignori|dimentica|dimenticate|dimentichi|trascura|trascurate|scarta"
            r"|scartate|annulla|lascia\s+perdere|lasciate\s+perdere|aggira|bypassa|cancella"
            r"|non\s+(?:seguire|considerare|rispettare|tenere\s+conto\s+d(?:i|elle|ei|egli))(?:\s+pi[ùu])?"
            r"|non\s+tener\s+conto\s+d(?:i|elle|ei)|smetti\s+di\s+(?:seguire|rispettare)"
            r"|disobbedisci\s+al?(?:le)?")
_IT_DET = r"tutte|tutti|le|gli|i|queste|quelle"
_IT_OWN = r"tue|tuoi|sue|vostre|vostri"
_IT_TEMPORAL = (r"precedenti|iniziali|originali|originarie|di\s+prima|sopra|soprastanti|anteriori"
                r"|ricevute|date|fornite|del\s+sistema|vecchie|passate")
_IT_NOUN = (r"istruzioni|regole|direttive|indicazioni|linee\s+guida|consegne|restrizioni|prompt"
            r"|norme|limitazioni|ordini")

# --- Portuguese ----------------------------------------------------------------------------
_PT_VERB = (r"ignore|ignora|ignorem|ignorar|esque[çc]a|esquece|esque[çc]am|esquecer|desconsidere"
            r"|desconsidera|despreze|despreza|descarte|descarta|deixe\s+de\s+lado|deixa\s+de\s+lado"
            r"|deixe\s+de\s+(?:seguir|obedecer|cumprir)|n[ãa]o\s+(?:siga|obede[çc]a|cumpra|respeite)"
            r"(?:\s+mais)?|anule|anula|contorne|burle|apague")
_PT_DET = r"todas|todos|as|os|estas|essas|a|o"
_PT_OWN = r"suas|seus|tuas|teus|sua|seu|tua|teu"
_PT_TEMPORAL = (r"anteriores|pr[ée]vi[ao]s|iniciais|originais|acima|precedentes|passad[ao]s"
                r"|antig[ao]s|recebid[ao]s|dad[ao]s|do\s+sistema|de\s+antes")
_PT_NOUN = (r"instru[çc](?:[õo]es|[ãa]o)|regras|diretrizes|diretivas|orienta[çc][õo]es|ordens"
            r"|indica[çc][õo]es|restri[çc][õo]es|normas|prompts?|limita[çc][õo]es")

# --- Dutch ---------------------------------------------------------------------------------
_NL_VERB = r"negeer|negeert|vergeet|verwaarloos|schrap|verwerp|omzeil|overschrijf|wis"
_NL_DET = r"alle|de|deze|die|het"
_NL_OWN = r"je|jouw|uw"
_NL_TEMPORAL = (r"vorige|eerdere|voorgaande|bovenstaande|oorspronkelijke|originele|oude|initi[ëe]le"
                r"|eerste|gegeven|ontvangen")
_NL_NOUN = (r"\w*(?:instructies|instructie|regels|richtlijnen|aanwijzingen|opdrachten|voorschriften"
            r"|prompts?|beperkingen)")
_NL_NO_LONGER = (rf"\b(?:volg|gehoorzaam|respecteer)\s+(?:(?:{_NL_DET}|{_NL_OWN}|{_NL_TEMPORAL})\s+){{0,3}}"
                 rf"{_NL_NOUN}\s+niet\s+(?:meer|langer)\b"
                 rf"|\b(?:houd|hou)\s+je\s+niet\s+(?:meer|langer)\s+aan\s+(?:(?:{_NL_DET}|{_NL_OWN}"
                 rf"|{_NL_TEMPORAL})\s+){{0,3}}{_NL_NOUN}")

OVERRIDES: Final = (
    Phrase("override_de", _override(_DE_VERB, _DE_DET, _DE_OWN, _DE_TEMPORAL, _DE_NOUN) + "|"
           + _DE_NO_LONGER,
           ("ignoriere", "ignorieren", "ignoriert", "ignorier", "missachte", "missachten",
            "missachtet", "vergiss", "vergesst", "vergessen", "verwirf", "verwerfen", "bergehe",
            "bergehen", "uebergehe", "uebergehen", "umgehe", "umgehen", "berschreibe",
            "ueberschreibe", "sche", "schen", "loesche", "loeschen", "streiche", "streichen",
            "kraft", "befolge", "befolgt", "befolgen", "beachte", "beachtet", "folge", "halte",
            "haltet", "halten")),
    Phrase("override_fr", _override(_FR_VERB, _FR_DET, _FR_OWN, _FR_TEMPORAL, _FR_NOUN),
           ("ignore", "ignorez", "ignorer", "oublie", "oubliez", "oublier", "glige", "gligez",
            "neglige", "carte", "cartez", "ecarte", "annule", "annulez", "outrepasse", "outrepassez",
            "contourne", "contournez", "outre", "abstraction", "tomber", "compte", "suis", "suivez",
            "respecte", "respectes", "respectez", "applique", "appliques", "appliquez", "ob", "obeis",
            "obeissez",
            "abandonne", "abandonnez", "efface", "effacez", "jette", "jetez", "rejette", "rejetez",
            "sob", "desobeis"),
           # "ignore" is English too: the French nouns must be there as well.
           ("instructions", "instruction", "consignes", "consigne", "gles", "gle", "regles", "regle",
            "directives", "directive", "ordres", "indications", "restrictions", "limites", "lignes",
            "glements", "reglements", "garde")),
    Phrase("override_es", _override(_ES_VERB, _ES_DET, _ES_OWN, _ES_TEMPORAL, _ES_NOUN),
           ("ignora", "ignore", "ignorad", "ignorar", "olvida", "olvide", "olvidad", "olvidar",
            "olvidate", "olv", "descarta", "descarte", "omite", "omita", "alto", "omiso", "caso",
            "lado", "deja", "desobedece", "anula", "ltate", "saltate", "elimina", "borra", "sigas",
            "obedezcas", "cumplas", "respetes"),
           ("instrucciones", "indicaciones", "reglas", "normas", "directrices", "rdenes", "ordenes",
            "consignas", "restricciones", "pautas", "directivas", "mensaje", "mensajes",
            "limitaciones")),
    Phrase("override_it", _override(_IT_VERB, _IT_DET, _IT_OWN, _IT_TEMPORAL, _IT_NOUN),
           ("ignora", "ignorate", "ignori", "dimentica", "dimenticate", "dimentichi", "trascura",
            "trascurate", "scarta", "scartate", "annulla", "perdere", "aggira", "bypassa",
            "cancella", "seguire", "considerare", "rispettare", "conto", "smetti",
            "disobbedisci"),
           ("istruzioni", "regole", "direttive", "indicazioni", "linee", "consegne", "restrizioni",
            "norme", "limitazioni", "ordini")),
    Phrase("override_pt", _override(_PT_VERB, _PT_DET, _PT_OWN, _PT_TEMPORAL, _PT_NOUN),
           ("ignore", "ignora", "ignorem", "ignorar", "esque", "esqueca", "esquece", "esquecam",
            "esquecer", "desconsidere", "desconsidera", "despreze", "despreza", "descarte",
            "descarta", "lado", "deixe", "siga", "obede", "obedeca", "cumpra", "respeite", "anule",
            "anula", "contorne", "burle", "apague"),
           ("instru", "instrucoes", "instrucao", "regras", "diretrizes", "diretivas", "orienta",
            "orientacoes", "ordens", "indica", "indicacoes", "restri", "restricoes", "normas", "limita",
            "limitacoes")),
    Phrase("override_nl", _override(_NL_VERB, _NL_DET, _NL_OWN, _NL_TEMPORAL, _NL_NOUN) + "|"
           + _NL_NO_LONGER,
           ("negeer", "negeert", "vergeet", "verwaarloos", "schrap", "verwerp", "omzeil",
            "overschrijf", "wis", "volg", "gehoorzaam", "respecteer", "houd", "hou")),
)

# A persona switch addressed to the reader.
PERSONA: Final = (
    # de
    r"\b(?:du\s+bist|sie\s+sind)\s+(?:ab\s+(?:jetzt|sofort)|jetzt|nun|nicht\s+mehr|von\s+nun\s+an)\b"
    r"|\bab\s+(?:jetzt|sofort)\s+bist\s+du\b|\bspiele?\s+die\s+rolle\b"
    r"|\btu\s+so,?\s+als\s+(?:ob|w[äa]e?rst)\b|\bstell\s+dir\s+vor,?\s+du\s+(?:bist|w[äa]e?rst)\b"
    r"|\bverhalte\s+dich\s+wie\b|\bgib\s+dich\s+als\b"
    # fr
    r"|\btu\s+es\s+(?:maintenant|d[ée]sormais|dor[ée]navant|[àa]\s+pr[ée]sent)\b"
    r"|\b(?:[àa]\s+partir\s+de\s+maintenant|d[ée]sormais|dor[ée]navant),?\s+(?:tu\s+es|vous\s+[êe]tes"
    r"|tu\s+agis|agis)\b|\bvous\s+[êe]tes\s+(?:maintenant|d[ée]sormais)\b|\bjoue[sz]?\s+le\s+r[ôo]le\b"
    r"|\bfais\s+semblant\s+d'[êe]tre\b|\bimagine\s+que\s+tu\s+es\b|\btu\s+n'es\s+plus\b"
    r"|\bagis\s+comme\b"
    # es
    r"|\b(?:ahora|a\s+partir\s+de\s+ahora|desde\s+ahora)(?:\s+mismo)?,?\s+(?:eres|ser[áa]s|act[úu]as"
    r"|usted\s+es)\b|\beres\s+ahora\b|\bya\s+no\s+eres\b|\bfinge\s+(?:ser|que\s+eres)\b"
    r"|\bhaz\s+(?:de|el\s+papel\s+de)\b|\bact[úu]a\s+como\b|\bimagina\s+que\s+eres\b"
    r"|\binterpreta\s+(?:a|el\s+papel)\b"
    # it
    r"|\b(?:ora|adesso|da\s+ora\s+in\s+poi|d'ora\s+in\s+poi|da\s+adesso)\s+(?:tu\s+)?sei\b"
    r"|\bnon\s+sei\s+pi[ùu]\b|\bsei\s+ora\b|\bfingi\s+di\s+essere\b|\bcomportati\s+come\b"
    r"|\bimmagina\s+di\s+essere\b|\binterpreta\s+il\s+ruolo\b"
    # pt
    r"|\b(?:agora|a\s+partir\s+de\s+agora|de\s+agora\s+em\s+diante|daqui\s+para\s+frente),?\s+"
    r"(?:voc[êe]|tu)\s+(?:[ée]|[ée]s|ser[áa])(?!\w)|\bvoc[êe]\s+(?:agora\s+[ée]|n[ãa]o\s+[ée]\s+mais)(?!\w)"
    r"|\bfinja\s+(?:ser|que\s+(?:[ée]|voc[êe]))(?!\w)|\baja\s+como\b"
    r"|\bimagine\s+que\s+voc[êe]\s+[ée](?!\w)|\bagora\s+[ée]s(?!\w)"
    # nl
    r"|\b(?:vanaf\s+nu|voortaan),?\s+(?:ben\s+je|bent\s+u|ben\s+jij)\b"
    r"|\b(?:je|jij)\s+bent\s+(?:nu|voortaan|niet\s+langer|niet\s+meer)\b|\bdoe\s+alsof\s+je\b"
    r"|\bgedraag\s+je\s+als\b|\bspeel\s+de\s+rol\b")
PERSONA_HINTS: Final = (
    "bist", "sind", "rolle", "tu", "stell", "verhalte", "gib", "es", "maintenant", "partir",
    "sormais", "desormais", "navant", "dorenavant", "vous", "joue", "jouez", "semblant", "imagine",
    "agis", "ahora", "eres", "finge", "haz", "act", "actua", "imagina", "interpreta", "ora",
    "adesso", "sei", "fingi", "comportati", "immagina", "agora", "voc", "voce", "finja", "aja",
    "nu", "voortaan", "bent", "doe", "gedraag", "speel")
# "ohne Einschränkungen beim Budget", "sem limites de dados": limits of something, not of the model.
_OF_SOMETHING: Final = (
    r"(?!\s+(?:beim?|f[üu]r|auf|im|sur|pour|para|en|op|voor|bij|per|su|sul|sulla|no|na|em)\b"
    r"|\s+(?:de|di|del|des|du|van|von|der|da|do|dos|das|della|dei)\s+(?!(?:ning|aucun|nenhum|alcun"
    r"|qualquer|qualsiasi|cualquier|tipo|sorte|kein|enige|welke)))")
# ...and what makes that persona a jailbreak: no rules, no limits, never refuses.
UNBOUND: Final = (
    r"\b(?:ohne|keine|keinerlei|frei\s+von)\s+(?:\w+\s+){0,2}?\w*(?:einschr[äa]e?nkung(?:en)?"
    r"|beschr[äa]e?nkung(?:en)?|regeln?|grenzen?|filter|richtlinien?|zensur|schranken?|moral|ethik"
    r"|vorgaben?)\b"
    + _OF_SOMETHING +
    r"|\b(?:verweigert|verweigerst|lehnt|lehnst)\s+(?:nie|niemals)\b|\bun(?:eingeschr[äa]e?nkt|zensiert|gefiltert)\w*"
    r"|\b(?:sans|aucune?s?|libre\s+de\s+toute|lib[ée]r[ée]e?\s+de)\s+(?:\w+\s+){0,2}?(?:restrictions?"
    r"|r[èe]gles?|limites?|filtres?|censure|contraintes?|garde-fous|morale|[ée]thique|limitations?)\b"
    + _OF_SOMETHING +
    r"|\bne\s+refuse\s+jamais\b|\bnon\s+censur[ée]"
    r"|\b(?:sin|ningun[ao]s?|libre\s+de)\s+(?:\w+\s+){0,2}?(?:restricci(?:[óo]n|ones)|reglas?"
    r"|l[íi]mites?|filtros?|censura|normas?|limitaci(?:[óo]n|ones)|[ée]tica|moral)\b" + _OF_SOMETHING +
    r"|\bnunca\s+(?:se\s+niega|rechaza)\b"
    r"|\b(?:senza|nessuna?|libero\s+da)\s+(?:\w+\s+){0,2}?(?:restrizion[ei]|regol[ae]|limit[ei]"
    r"|filtr[oi]|censura|limitazion[ei]|etica|morale|vincol[oi])\b" + _OF_SOMETHING
    + r"|\bnon\s+rifiuta\s+mai\b"
    r"|\b(?:sem|nenhuma?|livre\s+de)\s+(?:\w+\s+){0,2}?(?:restri[çc](?:[õo]es|[ãa]o)|regras?"
    r"|limites?|filtros?|censura|limita[çc](?:[õo]es|[ãa]o)|[ée]tica|moral)\b" + _OF_SOMETHING
    + r"|\bnunca\s+recusa\b"
    r"|\b(?:zonder|geen|vrij\s+van)\s+(?:\w+\s+){0,2}?\w*(?:beperking(?:en)?|regels?|grens|grenzen"
    r"|filters?|censuur|limiet(?:en)?|richtlijn(?:en)?|ethiek|moraal)\b" + _OF_SOMETHING
    + r"|\bweigert\s+nooit\b"
    # jailbreak personas go by their names in every language
    r"|(?-i:\b(?:DAN|STAN|DUDE|AIM)\b)")
UNBOUND_HINTS: Final = (
    "ohne", "kein", "keine", "keinerlei", "frei", "verweigert", "verweigerst", "lehnt", "lehnst",
    "uneingeschr", "uneingeschraenkt", "unzensiert", "ungefiltert", "sans", "aucune", "aucun",
    "aucunes", "libre", "refuse", "non", "sin", "ninguna", "ninguno", "ningunas", "ningun", "alguna",
    "nunca", "senza", "nessuna", "nessun", "libero", "rifiuta", "alcuna", "alcun", "sem", "nenhuma",
    "nenhum", "livre", "recusa", "zonder", "geen", "vrij", "weigert", "dan", "stan", "dude", "aim")
