/*
 * de.js — the German catalogue: the same keys as en.js
 * (tests/ui/test_catalog.mjs). One section per screen.
 */
export default {
  // --- app shell, navigation, problems ---------------------------------------
  "app.loading": "Wird geladen …",
  "app.retry": "Erneut versuchen",
  "app.skip": "Zum Inhalt springen",
  "app.load_failed": "Diese Ansicht konnte nicht geladen werden. Laden Sie die Seite neu.",
  "app.not_allowed": "Ihre Rolle darf diese Ansicht nicht öffnen; hier ist die erste, die sie darf.",
  "nav.label": "Ansichten",
  "nav.today": "Heute",
  "nav.book": "Buchen",
  "nav.offers": "Nicht erschienen & Angebote",
  "nav.doctors": "Ärztinnen und Ärzte",
  "nav.patients": "Patienten",
  "nav.messages": "Nachrichten",
  "nav.settings": "Einstellungen",
  "nav.signed_in_as": "{name} ({role})",
  "nav.logout": "Abmelden",
  "role.admin": "Admin",
  "role.front_desk": "Empfang",
  "role.doctor": "Arzt/Ärztin",
  "problem.unreachable": "Die Box ist nicht erreichbar. Prüfen Sie das Netzwerk; es wurde nichts geändert.",
  "problem.other": "Die Box hat mit einem Fehler geantwortet ({status}).",
  "problem.401": "Bitte melden Sie sich erneut an.",
  "problem.403": "Ihre Rolle darf das nicht.",
  "problem.404": "Das gibt es nicht mehr.",
  "problem.409": "Das kollidiert mit einer Änderung, die inzwischen erfolgt ist.",
  "problem.412": "Jemand anderes hat das inzwischen geändert.",
  "problem.429": "Zu viele Versuche. Bitte warten Sie einen Moment.",
  "problem.503": "Die Box ist ausgelastet oder ihr Speicher ist nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.",
  "common.save": "Speichern",
  "common.cancel": "Abbrechen",
  "common.close": "Schließen",
  "common.saved": "Gespeichert.",
  "common.none": "Keine",
  "common.yes": "Ja",
  "common.no": "Nein",

  // --- login and first-run setup ----------------------------------------------
  "login.title": "Bei clinicbox anmelden",
  "login.username": "Benutzername",
  "login.password": "Passwort",
  "login.submit": "Anmelden",
  "login.ended": "Ihre Sitzung ist beendet (15 Minuten ohne Aktivität, oder sie wurde geschlossen). Bitte melden Sie sich erneut an; Sie kommen dorthin zurück, wo Sie waren.",
  "login.logged_out": "Sie sind abgemeldet.",
  "setup.title": "Willkommen: ersten Admin anlegen",
  "setup.intro": "Diese Box hat noch keinen Admin. Der Admin richtet Praxis, Ärztinnen und Ärzte und weitere Benutzer ein. Diese Seite verschwindet, sobald es einen Admin gibt.",
  "setup.username": "Benutzername des Admins",
  "setup.username_hint": "Kleinbuchstaben, Ziffern, - und _.",
  "setup.password": "Passwort",
  "setup.password_hint": "Mindestens 8 Zeichen. Häufige Passwörter werden abgelehnt.",
  "setup.again": "Passwort wiederholen",
  "setup.mismatch": "Die beiden Passwörter unterscheiden sich.",
  "setup.submit": "Admin anlegen und anmelden",

  // --- status bar ---------------------------------------------------------------
  "status.label": "Status",
  "status.box_ok": "Box erreichbar",
  "status.box_lost": "Die Box ist nicht erreichbar: Änderungen können erst gespeichert werden, wenn sie wieder da ist",
  "status.sync_off": "Zentrale Synchronisierung aus",
  "status.sync_starting": "Zentrale Synchronisierung startet",
  "status.sync_ok": "Zentrale Synchronisierung in Ordnung",
  "status.sync_failing": "Zentrale Synchronisierung schlägt fehl (offline?)",
  "status.pending.one": "{n} Änderung wartet auf Synchronisierung",
  "status.pending.other": "{n} Änderungen warten auf Synchronisierung",
  "status.last_sync": "zuletzt synchronisiert {when}",
  "status.never_synced": "noch nie synchronisiert",
  "status.waiting.one": "{n} Nachricht wartet",
  "status.waiting.other": "{n} Nachrichten warten",
  "status.dead.one": "{n} Nachricht fehlgeschlagen",
  "status.dead.other": "{n} Nachrichten fehlgeschlagen",
  "status.clock_held": "Die Uhr scheint falsch zu gehen; Nicht-Erscheinen wird nicht markiert ({reason})",
  "status.clock_skew": "Die Uhr der Box weicht von der des zentralen Servers ab",

  // --- today ----------------------------------------------------------------------
  "today.title": "Heute",
  "today.is_today": "(heute)",
  "today.prev": "Vorheriger Tag",
  "today.next": "Nächster Tag",
  "today.pick": "Tag",
  "today.back_to_today": "Zurück zu heute",
  "today.print": "Drucken",
  "today.none": "Keine Termine.",
  "today.no_doctors": "Es gibt noch keine Ärztinnen und Ärzte. Ein Admin legt sie unter „Ärztinnen und Ärzte“ an.",
  "today.no_column": "Ihre Anmeldung ist mit keiner Ärztin und keinem Arzt verknüpft, daher gibt es keine Spalte.",
  "today.doctor_unknown": "Arzt/Ärztin",
  "today.patient_unknown": "Unbekannter Patient",
  "today.count.one": "{n} Termin",
  "today.count.other": "{n} Termine",
  "today.clocks_change": "An diesem Tag wird die Uhr umgestellt: jede Uhrzeit zeigt ihre Zone (Sommer- oder Winterzeit).",
  "today.now": "Jetzt {time}",
  "today.reminded": "erinnert {when}",
  "today.checkin": "Einchecken",
  "today.complete": "Abschließen",
  "today.noshow": "Nicht erschienen",
  "today.cancel": "Absagen …",
  "today.cancel_reason": "Grund der Absage (optional)",
  "today.cancel_confirm": "Termin absagen",
  "today.cancel_back": "Behalten",
  "today.cancel_reason_was": "Abgesagt: {reason}",
  "today.status.booked": "gebucht",
  "today.status.checked_in": "eingecheckt",
  "today.status.completed": "abgeschlossen",
  "today.status.cancelled": "abgesagt",
  "today.status.no_show": "nicht erschienen",
  "today.status.rescheduled": "verlegt",
  "today.status.conflict": "Sync-Konflikt",
  "today.done.checkin": "{name} ({time}) ist eingecheckt.",
  "today.done.complete": "{name} ({time}) ist abgeschlossen.",
  "today.done.noshow": "{name} ({time}) ist als nicht erschienen markiert.",
  "today.done.cancel": "{name} ({time}) ist abgesagt.",

  // --- book -----------------------------------------------------------------------

  // --- no-shows and offers -------------------------------------------------------

  // --- doctors and schedules -----------------------------------------------------

  // --- patients --------------------------------------------------------------------

  // --- messages --------------------------------------------------------------------

  // --- settings --------------------------------------------------------------------

  // --- end -------------------------------------------------------------------------
};
