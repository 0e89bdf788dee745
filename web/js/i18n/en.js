/*
 * en.js — the English catalogue: every string of the staff UI. de.js has
 * the same keys (tests/ui/test_catalog.mjs). Placeholders are {name}; a
 * counted phrase has KEY.one and KEY.other (i18n.js tn()). One section per
 * screen, in the order of js/screens/index.js.
 */
export default {
  // --- app shell, navigation, problems ---------------------------------------
  "app.loading": "Loading…",
  "app.retry": "Try again",
  "app.skip": "Skip to the content",
  "app.load_failed": "This screen could not be loaded. Reload the page to try again.",
  "app.not_allowed": "Your role cannot open that screen; here is the first one it can.",
  "nav.label": "Screens",
  "nav.today": "Today",
  "nav.book": "Book",
  "nav.offers": "No-shows & offers",
  "nav.doctors": "Doctors",
  "nav.patients": "Patients",
  "nav.messages": "Messages",
  "nav.settings": "Settings",
  "nav.signed_in_as": "{name} ({role})",
  "nav.logout": "Log out",
  "role.admin": "admin",
  "role.front_desk": "front desk",
  "role.doctor": "doctor",
  "problem.unreachable": "The box cannot be reached. Check the network; nothing was changed.",
  "problem.other": "The box answered with an error ({status}).",
  "problem.401": "Please log in again.",
  "problem.403": "Your role may not do this.",
  "problem.404": "This no longer exists.",
  "problem.409": "This clashes with something that changed meanwhile.",
  "problem.412": "Someone else changed this meanwhile.",
  "problem.429": "Too many attempts. Please wait a moment.",
  "problem.503": "The box is busy or its storage is unavailable. Please try again shortly.",
  "common.save": "Save",
  "common.cancel": "Cancel",
  "common.close": "Close",
  "common.saved": "Saved.",
  "common.none": "None",
  "common.yes": "Yes",
  "common.no": "No",

  // --- login and first-run setup ----------------------------------------------
  "login.title": "Log in to clinicbox",
  "login.username": "User name",
  "login.password": "Password",
  "login.submit": "Log in",
  "login.ended": "Your session has ended (15 minutes without activity, or it was closed). Please log in again; you will be back where you were.",
  "login.logged_out": "You are logged out.",
  "setup.title": "Welcome: create the first admin",
  "setup.intro": "This box has no admin yet. The admin sets up the clinic, doctors and other users. This page is gone once an admin exists.",
  "setup.username": "Admin user name",
  "setup.username_hint": "Lower-case letters, digits, - and _.",
  "setup.password": "Password",
  "setup.password_hint": "At least 8 characters. Common passwords are refused.",
  "setup.again": "Password again",
  "setup.mismatch": "The two passwords differ.",
  "setup.submit": "Create admin and log in",

  // --- status bar ---------------------------------------------------------------
  "status.label": "Status",
  "status.box_ok": "Box reachable",
  "status.box_lost": "The box cannot be reached: changes cannot be saved until it is back",
  "status.sync_off": "Central sync off",
  "status.sync_starting": "Central sync starting",
  "status.sync_ok": "Central sync ok",
  "status.sync_failing": "Central sync failing (offline?)",
  "status.pending.one": "{n} change waiting to sync",
  "status.pending.other": "{n} changes waiting to sync",
  "status.last_sync": "last synced {when}",
  "status.never_synced": "never synced",
  "status.waiting.one": "{n} message waiting",
  "status.waiting.other": "{n} messages waiting",
  "status.dead.one": "{n} message failed",
  "status.dead.other": "{n} messages failed",
  "status.clock_held": "The clock looks wrong; no-shows are not being marked ({reason})",
  "status.clock_skew": "The box's clock disagrees with the central server",

  // --- today ----------------------------------------------------------------------
  "today.title": "Today",
  "today.is_today": "(today)",
  "today.prev": "Previous day",
  "today.next": "Next day",
  "today.pick": "Day",
  "today.back_to_today": "Back to today",
  "today.print": "Print",
  "today.none": "No appointments.",
  "today.no_doctors": "There are no doctors yet. An admin adds them under Doctors.",
  "today.no_column": "Your login is not linked to a doctor, so there is no column to show.",
  "today.doctor_unknown": "Doctor",
  "today.patient_unknown": "Unknown patient",
  "today.count.one": "{n} appointment",
  "today.count.other": "{n} appointments",
  "today.clocks_change": "The clocks change on this day: each time shows its zone (summer or winter time).",
  "today.now": "Now {time}",
  "today.reminded": "reminded {when}",
  "today.checkin": "Check in",
  "today.complete": "Complete",
  "today.noshow": "No-show",
  "today.cancel": "Cancel…",
  "today.cancel_reason": "Reason for cancelling (optional)",
  "today.cancel_confirm": "Cancel appointment",
  "today.cancel_back": "Keep it",
  "today.cancel_reason_was": "Cancelled: {reason}",
  "today.status.booked": "booked",
  "today.status.checked_in": "checked in",
  "today.status.completed": "completed",
  "today.status.cancelled": "cancelled",
  "today.status.no_show": "no-show",
  "today.status.rescheduled": "moved",
  "today.status.conflict": "sync conflict",
  "today.done.checkin": "{name} ({time}) is checked in.",
  "today.done.complete": "{name} ({time}) is completed.",
  "today.done.noshow": "{name} ({time}) is marked as a no-show.",
  "today.done.cancel": "{name} ({time}) is cancelled.",

  // --- book -----------------------------------------------------------------------

  // --- no-shows and offers -------------------------------------------------------

  // --- doctors and schedules -----------------------------------------------------

  // --- patients --------------------------------------------------------------------

  // --- messages --------------------------------------------------------------------

  // --- settings --------------------------------------------------------------------

  // --- end -------------------------------------------------------------------------
};
