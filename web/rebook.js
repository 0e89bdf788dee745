/*
 * rebook.js — the patient's rebooking page ({public_url}/rebook#<token>).
 *
 * The token is the URL fragment: the browser never sends it to a server nor
 * puts it in a Referer header. The page takes it from location.hash, keeps it
 * in sessionStorage (so a reload works), removes it from the address bar and
 * history, and posts it in a JSON body: POST /api/offer-link shows the offer,
 * POST /api/offer-link/rebook takes an option (docs/security.md, "Patient
 * links"). Requests carry no cookies (credentials: "omit"): the link acts as
 * itself, never as a staff member logged in on the same browser. Text from
 * the server goes in with textContent only.
 */
"use strict";

(function () {
  var KEY = "clinicbox-offer-token";
  var $ = function (id) { return document.getElementById(id); };
  var zone = "UTC";

  function takeToken() {
    var t = window.location.hash.replace(/^#/, "");
    if (t) {
      try { window.sessionStorage.setItem(KEY, t); } catch (e) { /* private mode */ }
      window.history.replaceState(null, "", window.location.pathname);
      return t;
    }
    try { return window.sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }

  function when(iso) {
    return new Intl.DateTimeFormat(undefined, {
      weekday: "short", day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit",
      timeZone: zone
    }).format(new Date(iso));
  }

  function say(text, problem) {
    var s = $("status");
    s.textContent = text;
    s.className = problem ? "problem" : "";
  }

  function post(path, body) {
    return window.fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        return { status: r.status, body: j };
      });
    });
  }

  function problem(r) {
    if (r.status === 400 || r.status === 404 || r.status === 422)
      return "This link is not valid. Please open the whole link from your message, or call the clinic.";
    if (r.status === 410)
      return "This link has expired. Please call the clinic to pick a new time.";
    return (r.body && r.body.detail) || "Something went wrong. Please try again, or call the clinic.";
  }

  function show(v) {
    zone = v.clinic.timezone;
    $("clinic").textContent = v.clinic.name;
    $("doctor").textContent = v.doctor.name;
    $("current").textContent = when(v.appointment.start);
    $("expires").textContent = "This link works until " + when(v.expires_at) + ".";
    var box = $("options");
    while (box.firstChild) box.removeChild(box.firstChild);
    if (v.used && v.chosen) {
      say("You are booked for " + when(v.chosen.start) + " with " + v.doctor.name + ". See you then!");
      $("pick").hidden = true;
    } else if (!v.rebookable) {
      say("This appointment can no longer be moved here. Please call the clinic.", true);
      $("pick").hidden = true;
    } else if (v.options.length === 0) {
      say("None of the offered times is free any more. Please call the clinic.", true);
      $("pick").hidden = true;
    } else {
      say("Choose one of these times:");
      v.options.forEach(function (o, i) {
        var label = document.createElement("label");
        var input = document.createElement("input");
        input.type = "radio";
        input.name = "option";
        input.value = String(o.option);
        input.required = true;
        if (i === 0) input.checked = true;
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + o.option + ") " + when(o.start)));
        box.appendChild(label);
      });
      $("pick").hidden = false;
    }
    $("offer").hidden = false;
  }

  function start() {
    var token = takeToken();
    if (!token) {
      say("Please open the whole link from your message.", true);
      return;
    }
    post("/api/offer-link", { offer_token: token }).then(function (r) {
      if (r.status === 200) show(r.body); else say(problem(r), true);
    }, function () { say("The clinic cannot be reached. Please try again later.", true); });

    $("pick").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var picked = document.querySelector("input[name=option]:checked");
      if (!picked) return;
      $("book").disabled = true;
      say("Booking…");
      post("/api/offer-link/rebook", { offer_token: token, option: Number(picked.value) })
        .then(function (r) {
          $("book").disabled = false;
          if (r.status === 200) {
            show(r.body);
          } else {
            say(problem(r), true);
            if (r.status === 409) /* taken meanwhile: show what is still free */
              post("/api/offer-link", { offer_token: token }).then(function (again) {
                if (again.status === 200) { show(again.body); say(problem(r), true); }
              });
          }
        }, function () {
          $("book").disabled = false;
          say("The clinic cannot be reached. Please try again.", true);
        });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
