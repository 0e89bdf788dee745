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

  // --- book -----------------------------------------------------------------------
  "book.title": "Book an appointment",
  "book.patient": "Patient",
  "book.search": "Find the patient",
  "book.search_hint": "Part of the name, phone number or email. Arrow down goes to the list.",
  "book.found.one": "{n} patient found.",
  "book.found.other": "{n} patients found.",
  "book.none_found": "No patient matches “{q}”. Add them as a new patient?",
  "book.results": "Matching patients",
  "book.no_contact": "no phone or email",
  "book.new": "New patient",
  "book.new_title": "New patient",
  "book.new_name": "Name",
  "book.new_phone": "Mobile phone",
  "book.new_phone_hint": "With the country code, e.g. +4915112345678.",
  "book.new_email": "Email",
  "book.new_notify": "Send the patient messages",
  "book.new_notify_email": "by email",
  "book.new_notify_sms": "by SMS",
  "book.new_save": "Add patient",
  "book.chosen": "Patient",
  "book.change": "Change patient",
  "book.need_patient": "Choose or add the patient first, then click the time again.",
  "book.when": "Doctor and day",
  "book.no_doctors": "There are no doctors yet. An admin adds them under Doctors.",
  "book.doctor": "Doctor",
  "book.day": "Day",
  "book.prev_day": "Previous day",
  "book.today": "Today",
  "book.next_day": "Next day",
  "book.length": "Length",
  "book.length_option": "{min} minutes ({slots})",
  "book.slots.one": "{n} slot",
  "book.slots.other": "{n} slots",
  "book.reason": "Reason (optional)",
  "book.free_times": "Free times on {day}",
  "book.pick": "Click a time to book it for {name}.",
  "book.pick_first": "Choose the patient, then click a time to book it.",
  "book.no_slots": "No free times on {day}.",
  "book.try_next": "Show the next day",
  "book.booking": "Booking…",
  "book.booked": "Booked: {patient} with {doctor} on {date} at {time} (until {end}).",
  "book.show_today": "Show on Today",
  "book.another": "Book for another patient",
  "book.taken": "This time was taken meanwhile, so nothing was booked.",
  "book.alternatives": "Free times from then on; one click books one:",
  "book.alternative": "{day}, {time}",
  "book.no_alternatives": "There is no free time in the next 14 days from then. Try another doctor.",

  // --- no-shows and offers -------------------------------------------------------

  // --- doctors and schedules -----------------------------------------------------

  // --- patients --------------------------------------------------------------------

  // --- messages --------------------------------------------------------------------

  // --- settings --------------------------------------------------------------------

  // --- end -------------------------------------------------------------------------
};
