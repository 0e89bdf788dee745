/*
 * screens/index.js — the staff UI's screens, in menu order, with the roles
 * that may open each (the API refuses the rest anyway: docs/security.md,
 * "Roles"). A screen is an ES module whose default export is a component
 * taking { app } (js/app.js); it is loaded when first opened.
 */
const STAFF = ["admin", "front_desk", "doctor"];
const DESK = ["admin", "front_desk"];

export const SCREENS = [
  { id: "today", roles: STAFF, load: () => import("./today.js") },
  { id: "book", roles: DESK, load: () => import("./book.js") },
  { id: "offers", roles: DESK, load: () => import("./offers.js") },
  { id: "doctors", roles: ["admin", "doctor"], load: () => import("./doctors.js") },
  { id: "patients", roles: DESK, load: () => import("./patients.js") },
  { id: "messages", roles: DESK, load: () => import("./messages.js") },
  { id: "settings", roles: ["admin"], load: () => import("./settings.js") },
];
