/*
 * hubcheck.js: the live token checker of the handbook (docs/widgets.md).
 *
 * It turns every <div class="hubcheck-token-check"> that the preprocessor wrote into a small form:
 * offline checks of a pasted token first, then, only when the student asks, one GET of
 * {data-hub-endpoint}/api/whoami-v2. Rules it keeps:
 *   - the token lives only in the input field and in local variables: it is never saved in the
 *     browser, never put in a URL and never written to the developer console;
 *   - the token is sent only to the configured endpoint (https, or http on loopback);
 *   - whatever the Hub answers is shown with textContent, never parsed as HTML;
 *   - no inline styles or handlers, so a strict Content-Security-Policy does not break it.
 * What it must know of the rest of the toolchain (the token's prefix and length, the hosts that
 * may be reached over plain http, the words for the page's role) comes from the data attributes
 * of the .hubcheck-config element, which the Rust side writes: it is defined there, once.
 */
(function () {
  "use strict";

  var TIMEOUT_MS = 10000;
  var REUSE_MS = 60000;

  var counter = 0;
  // Last Hub answer per token (keyed by a SHA-256 hash where the browser allows it), memory only.
  var answers = new Map();

  /* ---------- small DOM helpers (text only, never HTML) ---------- */

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  /* ---------- offline checks ---------- */

  var QUOTES = "\"'`\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u00ab\u00bb";

  function describeChar(ch) {
    if (ch === " ") {
      return "a space";
    }
    if (ch === "\t") {
      return "a tab";
    }
    var code = ch.codePointAt(0);
    if (code < 32 || (code >= 0x200b && code <= 0x200f) || code === 0xfeff || code === 0xa0) {
      return "an invisible character (U+" + code.toString(16).toUpperCase().padStart(4, "0") + ")";
    }
    return "\u201c" + ch + "\u201d";
  }

  /**
   * Returns the problems of a pasted value, each {code, text, blocking}; none means the format is
   * right. `pastedBreak` is true when the pasted text held a line break: the input field already
   * dropped it, so that hint is a note that does not block the Hub check. `shape` is the token's
   * {prefix, length} from the page; without it, the prefix and length checks are left out.
   */
  function offlineProblems(raw, placeholders, pastedBreak, shape) {
    var problems = [];
    var add = function (code, text) {
      problems.push({ code: code, text: text, blocking: code !== "line-break" });
    };
    if (raw.trim() === "" && !pastedBreak) {
      add("empty", "The field is empty. Paste your token first.");
      return problems;
    }
    var stripped = raw.trim();
    var core = stripped;
    while (core.length > 0 && QUOTES.indexOf(core[0]) >= 0) {
      core = core.slice(1);
    }
    while (core.length > 0 && QUOTES.indexOf(core[core.length - 1]) >= 0) {
      core = core.slice(0, -1);
    }
    core = core.trim();

    if (placeholders.indexOf(core) >= 0) {
      add(
        "placeholder",
        "This is the example text from the handbook (" + core + "), not a real token. " +
          "Use your own token: on huggingface.co open Settings, then Access Tokens, and copy your token from there."
      );
      return problems;
    }

    var startSpace = raw.length > 0 && raw !== raw.replace(/^\s+/, "");
    var endSpace = raw.length > 0 && raw !== raw.replace(/\s+$/, "");
    if (startSpace || endSpace) {
      var where = startSpace && endSpace ? "at the start and at the end" : startSpace ? "at the start" : "at the end";
      add(
        "space",
        "There is a space " + where + " of your token. Delete it: a token never has spaces. " +
          "This is the most common mistake when copying a token."
      );
    }
    if (pastedBreak) {
      add(
        "line-break",
        "The text you pasted had a line break (a new line) in it. This field removed it, " +
          "but in a file, a secret or your code the line break breaks the token. Copy only the token, without the new line."
      );
    }
    if (core !== stripped) {
      add(
        "quotes",
        "There are quote marks around your token. Quotes belong to the code, not to the token: " +
          "copy only the text between the quotes."
      );
    }
    if (core === "") {
      return problems;
    }
    if (/\s/.test(core)) {
      add("space-inside", "There is a space inside your token. A token is one word, without spaces.");
    }
    var prefix = shape ? shape.prefix : "";
    if (shape && core.indexOf(prefix) !== 0) {
      if (core.toLowerCase().indexOf(prefix.slice(0, -1).toLowerCase()) === 0 && /^[-_.]$/.test(core.charAt(prefix.length - 1))) {
        add(
          "prefix",
          "A token starts with " + prefix + " in small letters, with an underscore ( _ ). Check the first " +
            prefix.length + " characters."
        );
      } else {
        add(
          "prefix",
          "A Hugging Face token starts with " + prefix + ". This text does not. Check that you copied the whole token, " +
            "and not another key or a password."
        );
      }
    }
    var body = prefix && core.indexOf(prefix) === 0 ? core.slice(prefix.length) : core;
    var bad = [];
    Array.from(body).forEach(function (ch) {
      if (!/[A-Za-z0-9]/.test(ch) && !/\s/.test(ch) && bad.indexOf(ch) < 0) {
        bad.push(ch);
      }
    });
    if (bad.length > 0) {
      add(
        "characters",
        "After " + (prefix || "its start") + ", a token has only letters (A to Z, a to z) and digits (0 to 9). Yours also has " +
          bad.slice(0, 5).map(describeChar).join(", ") + "."
      );
    }
    if (!shape) {
      return problems;
    }
    var length = Array.from(core).length;
    var expected = prefix.length + shape.length;
    if (length < expected) {
      add(
        "length",
        "This is too short for a token: a token has " + expected + " characters (" + prefix + " and " + shape.length +
          " more), and this has " + length + ". A part is missing: copy the token again with the copy button next to it."
      );
    } else if (length > expected) {
      add(
        "length",
        "This is too long for a token: a token has " + expected + " characters, and this has " + length +
          ". Maybe you pasted it twice, or together with other text."
      );
    }
    return problems;
  }

  /* ---------- the Hub ---------- */

  function endpointProblem(endpoint, loopback) {
    if (!endpoint) {
      return "The handbook does not say which Hub to ask, so the token is not sent.";
    }
    var url;
    try {
      url = new URL(endpoint);
    } catch (e) {
      return "The handbook's Hub address is not a valid URL, so the token is not sent.";
    }
    if (url.protocol === "https:") {
      return null;
    }
    if (url.protocol === "http:" && loopback.indexOf(url.hostname) >= 0) {
      return null;
    }
    return "The handbook's Hub address does not use https, so the token is not sent.";
  }

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer))
      .map(function (b) {
        return b.toString(16).padStart(2, "0");
      })
      .join("");
  }

  // A key for the answer cache: SHA-256 of endpoint and token where SubtleCrypto exists (secure
  // contexts: https, localhost, 127.0.0.1); otherwise the pair itself, kept only in memory.
  function answerKey(endpoint, token) {
    var text = endpoint + "\n" + token;
    if (window.isSecureContext && window.crypto && window.crypto.subtle) {
      return window.crypto.subtle
        .digest("SHA-256", new TextEncoder().encode(text))
        .then(hex, function () {
          return "plain:" + text;
        });
    }
    return Promise.resolve("plain:" + text);
  }

  function askHub(endpoint, token) {
    var controller = new AbortController();
    var timedOut = false;
    var timer = setTimeout(function () {
      timedOut = true;
      controller.abort();
    }, TIMEOUT_MS);
    var url = endpoint.replace(/\/+$/, "") + "/api/whoami-v2";
    return fetch(url, {
      method: "GET",
      headers: { Authorization: "Bearer " + token },
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
      referrerPolicy: "no-referrer",
      signal: controller.signal,
    })
      .then(function (response) {
        if (response.status === 200) {
          return response.json().then(
            function (body) {
              var access = (body && body.auth && body.auth.accessToken) || {};
              return {
                kind: "valid",
                name: String((body && body.name) || ""),
                fullname: String((body && body.fullname) || ""),
                tokenName: String(access.displayName || ""),
                role: String(access.role || ""),
                fineGrained: access.fineGrained && typeof access.fineGrained === "object" ? access.fineGrained : null,
              };
            },
            function () {
              return { kind: "unexpected", status: 200 };
            }
          );
        }
        if (response.status === 401) {
          return { kind: "invalid", status: 401 };
        }
        if (response.status === 429) {
          return { kind: "rate-limited", status: 429 };
        }
        return { kind: "unexpected", status: response.status };
      })
      .catch(function () {
        return { kind: timedOut ? "timeout" : "unreachable" };
      })
      .finally(function () {
        clearTimeout(timer);
      });
  }

  /* ---------- what the student reads ---------- */

  function fitMessage(needed, role) {
    if (role === "read") {
      if (needed === "write") {
        return {
          state: "mismatch",
          text:
            "This token can only read, but this page needs a write token. The steps here upload to the Hub, " +
            "and with a read token the upload fails with \u201c403 Forbidden\u201d (you do not have the rights). " +
            "Create a write token (or a fine-grained token with write access) for this page.",
        };
      }
      if (needed === "fineGrained") {
        return {
          state: "note",
          text:
            "This page suggests a fine-grained token. A read token works for reading, " +
            "but a fine-grained token can be limited to exactly the repositories you need.",
        };
      }
      return { state: "valid", text: "Good: this page needs a read token, and this is a read token." };
    }
    if (role === "write") {
      if (needed === "write") {
        return { state: "valid", text: "Good: this page needs a write token, and this is a write token." };
      }
      return {
        state: "note",
        text:
          "This token works here, but it can do more than this page needs: it can also change and delete your " +
          "repositories. Use the smallest permission that works (least privilege): a read token for reading, " +
          "and keep the write token for uploads.",
      };
    }
    if (role === "fineGrained") {
      return {
        state: needed === "fineGrained" ? "valid" : "note",
        text:
          "This is a fine-grained token. It works here only if its permissions allow what this page does (" +
          (needed === "write" ? "write access to the repository you upload to" : "read access to the repositories you use") +
          "). Check them on huggingface.co under Settings, Access Tokens.",
      };
    }
    return {
      state: "note",
      text: "The Hub did not say what this token may do, so this check cannot tell whether it fits this page.",
    };
  }

  /* The boxes of the Hub's fine-grained token form, as the student sees them. */
  var BOX_GATED = "Read access to contents of all public gated repos you can access";
  var BOX_WRITE = "Write access to contents/settings of all repos under your personal namespace";
  var BOX_INFERENCE = "Make calls to Inference Providers";

  /* Whether a token the Hub described (role, fine-grained permissions) may do what a page needs:
     "yes", "no" or "partly", with why. The rules are the Hub's: docs/widgets.md lists them. */
  function meetsNeed(need, outcome) {
    var yes = function (why) { return { verdict: "yes", why: why || "" }; };
    var no = function (why) { return { verdict: "no", why: why }; };
    if (need === "read") {
      return yes("every valid token can read public repositories");
    }
    if (outcome.role === "read" || outcome.role === "write") {
      if (need === "write") {
        return outcome.role === "write"
          ? yes("a write token can upload to your account and to organisations where you may write")
          : no("a read token cannot upload; uploads fail with \u201c403 Forbidden\u201d");
      }
      if (need === "gated") {
        return yes("once the owners approve your access request");
      }
      if (need === "inference") {
        return yes("");
      }
    }
    if (outcome.role === "fineGrained") {
      var fg = outcome.fineGrained || {};
      var scoped = Array.isArray(fg.scoped) ? fg.scoped : [];
      var global = Array.isArray(fg.global) ? fg.global.map(String) : [];
      var namedWith = function (permission) {
        return scoped
          .filter(function (s) {
            return Array.isArray(s.permissions) && s.permissions.indexOf(permission) >= 0;
          })
          .map(function (s) {
            return String((s.entity && s.entity.name) || "?");
          });
      };
      if (need === "gated") {
        if (fg.canReadGatedRepos === true) {
          return yes("once the owners approve your access request");
        }
        var readable = namedWith("repo.content.read");
        if (readable.length > 0) {
          return { verdict: "partly", why: "only the repositories it names: " + readable.join(", ") +
            ". For other gated models, tick \u201c" + BOX_GATED + "\u201d" };
        }
        return no("the box \u201c" + BOX_GATED + "\u201d is not ticked, so gated downloads fail with " +
          "\u201c403\u201d even after your request is approved");
      }
      if (need === "write") {
        var writable = namedWith("repo.write");
        if (writable.length > 0) {
          return { verdict: "partly", why: "only to: " + writable.join(", ") };
        }
        return no("it has no write permission; tick \u201c" + BOX_WRITE + "\u201d");
      }
      if (need === "inference") {
        /* "Make calls to Inference Providers" is a permission of the token's own user (or global). */
        var ownUser = scoped.some(function (s) {
          return (
            s.entity && s.entity.type === "user" && String(s.entity.name).toLowerCase() === outcome.name.toLowerCase() &&
            Array.isArray(s.permissions) && s.permissions.indexOf("inference.serverless.write") >= 0
          );
        });
        return ownUser || global.indexOf("inference.serverless.write") >= 0
          ? yes("")
          : no("the box \u201c" + BOX_INFERENCE + "\u201d is not ticked, so calls fail with \u201c403 Forbidden\u201d");
      }
    }
    return { verdict: "unknown", why: "the Hub did not say what this token may do" };
  }

  /* One line per need of the page: "Yes: ...", "No: ...". */
  function needLines(widget, outcome) {
    var words = { yes: "Yes", no: "No", partly: "Only partly", unknown: "Cannot tell" };
    return widget.needs.map(function (n) {
      var met = meetsNeed(n.need, outcome);
      return {
        verdict: met.verdict,
        text: words[met.verdict] + ": " + n.words + (met.why ? " (" + met.why + ")." : "."),
      };
    });
  }

  function render(widget, state, title, lines, facts) {
    var region = widget.result;
    region.textContent = "";
    region.setAttribute("data-state", state);
    region.appendChild(el("p", { class: "hubcheck-result-title" }, title));
    if (facts && facts.length > 0) {
      var list = el("dl", { class: "hubcheck-facts" });
      facts.forEach(function (fact) {
        list.appendChild(el("dt", {}, fact[0]));
        list.appendChild(el("dd", {}, fact[1]));
      });
      region.appendChild(list);
    }
    if (lines.length === 1) {
      region.appendChild(el("p", {}, lines[0]));
    } else if (lines.length > 1) {
      var ul = el("ul", {});
      lines.forEach(function (line) {
        ul.appendChild(el("li", {}, line));
      });
      region.appendChild(ul);
    }
  }

  function showOutcome(widget, outcome, ageSeconds, notes) {
    var host = widget.endpointHost;
    var reused = (notes || []).concat(
      ageSeconds === null
        ? []
        : [
            "This is the Hub's answer from " + ageSeconds + " seconds ago: the same token is checked " +
              "at most once a minute, because the Hub allows only a few checks.",
          ]
    );
    if (outcome.kind === "valid") {
      var fit = fitMessage(widget.role, outcome.role);
      var needs = needLines(widget, outcome);
      if (needs.some(function (n) { return n.verdict === "no"; })) {
        fit = { state: "mismatch", text: fit.text };
      }
      var account = outcome.name + (outcome.fullname && outcome.fullname !== outcome.name ? " (" + outcome.fullname + ")" : "");
      var needsIntro = needs.length > 0 ? ["What this page needs, and whether this token may do it:"] : [];
      render(
        widget,
        fit.state,
        fit.state === "mismatch" ? "The token is valid, but it does not fit this page." : "The token is valid.",
        [fit.text].concat(needsIntro, needs.map(function (n) { return n.text; }), reused),
        [
          ["Account", account],
          ["Token name", outcome.tokenName || "(no name)"],
          ["Role", outcome.role || "(not given)"],
        ]
      );
    } else if (outcome.kind === "invalid") {
      render(
        widget,
        "invalid",
        "The Hub did not accept this token (401).",
        [
          "The token is wrong, expired, or revoked (deleted). The Hub gives the same answer in all three " +
            "cases, so this check cannot tell which one it is.",
          "Copy the token again from huggingface.co (Settings, Access Tokens), or create a new one.",
        ].concat(reused)
      );
    } else if (outcome.kind === "rate-limited") {
      render(widget, "rate-limited", "The Hub is busy: too many checks (429).", [
        "The Hub allows only a few token checks in a short time. Wait a few minutes and try again. " +
          "This says nothing about your token: it may be fine.",
      ].concat(reused));
    } else if (outcome.kind === "timeout") {
      render(widget, "unreachable", "The Hub did not answer in time.", [
        "There was no answer from " + host + " within " + TIMEOUT_MS / 1000 + " seconds. " +
          "Check your internet connection and try again later. This says nothing about your token.",
      ]);
    } else if (outcome.kind === "unreachable") {
      render(widget, "unreachable", "The Hub could not be reached.", [
        "The check could not connect to " + host + ". Check your internet connection (or ask whether a " +
          "firewall blocks it) and try again. This says nothing about your token.",
      ]);
    } else {
      render(widget, "unexpected", "The Hub gave an unexpected answer (" + outcome.status + ").", [
        "Try again in a few minutes. If it keeps happening, tell the course staff.",
      ]);
    }
  }

  function showProblems(widget, problems, live) {
    render(
      widget,
      "problems",
      problems.length === 1 ? "Please fix this first:" : "Please fix these first:",
      problems.map(function (p) {
        return p.text;
      })
    );
    if (live) {
      widget.result.appendChild(el("p", {}, "The Hub was not asked, because the format is wrong."));
    }
    widget.result.setAttribute("data-problems", problems
      .map(function (p) {
        return p.code;
      })
      .join(" "));
  }

  /* ---------- one widget ---------- */

  // Runs the offline checks and shows blocking problems; returns the notes to show with a
  // result, or null when the token must be fixed first.
  function checkOffline(widget, live) {
    widget.result.removeAttribute("data-problems");
    var problems = offlineProblems(widget.input.value, widget.placeholders, widget.pastedBreak, widget.shape);
    var blocking = problems.some(function (p) {
      return p.blocking;
    });
    if (blocking) {
      showProblems(widget, problems, live);
      return null;
    }
    var notes = problems.map(function (p) {
      return p.text;
    });
    if (!live) {
      render(
        widget,
        "format-ok",
        "The format looks right.",
        notes.concat(["To see whether the Hub accepts this token, press \u201cCheck with the Hub\u201d."])
      );
    }
    return notes;
  }

  function checkLive(widget) {
    var notes = checkOffline(widget, true);
    if (notes === null) {
      return;
    }
    var problem = endpointProblem(widget.endpoint, widget.loopback);
    if (problem) {
      render(widget, "unexpected", "The check is not possible.", [problem]);
      return;
    }
    var token = widget.input.value;
    var seq = ++widget.seq;
    // aria-disabled, not disabled: a disabled button loses the keyboard focus, and the student
    // would be sent back to the top of the page while the Hub answers.
    widget.liveButton.setAttribute("aria-disabled", "true");
    render(widget, "checking", "Checking with the Hub\u2026", ["Asking " + widget.endpointHost + " about this token."]);
    answerKey(widget.endpoint, token)
      .then(function (key) {
        var last = answers.get(key);
        if (last && Date.now() - last.at < REUSE_MS) {
          return { outcome: last.outcome, age: Math.round((Date.now() - last.at) / 1000) };
        }
        return askHub(widget.endpoint, token).then(function (outcome) {
          if (outcome.kind === "valid" || outcome.kind === "invalid") {
            answers.set(key, { at: Date.now(), outcome: outcome });
          }
          return { outcome: outcome, age: null };
        });
      })
      .then(function (answer) {
        if (seq === widget.seq) {
          showOutcome(widget, answer.outcome, answer.age, notes);
        }
      })
      .finally(function () {
        token = null;
        widget.liveButton.removeAttribute("aria-disabled");
      });
  }

  // The page's Content-Security-Policy (a meta element written by mdbook-hubcheck), if its
  // connect-src allows only this site and the Hub's origin: only then is the sentence true.
  function pageGuardsEndpoint(endpoint) {
    var meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
    if (!meta) {
      return false;
    }
    var origin;
    try {
      origin = new URL(endpoint).origin;
    } catch (e) {
      return false;
    }
    var connect = (meta.getAttribute("content") || "").split(";").map(function (d) {
      return d.trim().split(/\s+/);
    }).filter(function (words) {
      return words[0] === "connect-src";
    })[0];
    if (!connect) {
      return false;
    }
    var sources = connect.slice(1);
    return sources.every(function (s) {
      return s === "'self'" || s === origin;
    }) && sources.indexOf(origin) >= 0;
  }

  function guardLine(sentence, help, endpoint, endpointHost) {
    if (!sentence || !pageGuardsEndpoint(endpoint)) {
      return null;
    }
    var line = el("p", { class: "hubcheck-guard" }, sentence.replace("{hub}", endpointHost) + " ");
    if (help) {
      var root = typeof path_to_root === "string" ? path_to_root : "";
      line.appendChild(el("a", { href: root + help }, "See it for yourself in your browser."));
    }
    return line;
  }

  function init(container) {
    if (container.classList.contains("hubcheck-ready")) {
      return;
    }
    counter += 1;
    var id = "hubcheck-" + counter;
    var endpoint = container.getAttribute("data-hub-endpoint") || "";
    var config = container.querySelector(".hubcheck-config");
    var setting = function (name) {
      return (config && config.getAttribute("data-" + name)) || "";
    };
    var list = function (name) {
      try {
        var parsed = JSON.parse(setting(name) || "[]");
        return Array.isArray(parsed) ? parsed.map(String) : [];
      } catch (e) {
        return [];
      }
    };
    var placeholders = list("placeholders");
    var tokenLength = parseInt(setting("token-length"), 10);
    var shape = setting("token-prefix") && tokenLength > 0 ? { prefix: setting("token-prefix"), length: tokenLength } : null;
    var endpointHost;
    try {
      endpointHost = new URL(endpoint).host;
    } catch (e) {
      endpointHost = endpoint;
    }
    var widget = {
      role: container.getAttribute("data-role") || "read",
      roleWords: setting("role-words") || "a token",
      shape: shape,
      loopback: list("loopback"),
      endpoint: endpoint,
      endpointHost: endpointHost,
      placeholders: placeholders,
      needs: (function () {
        try {
          var parsed = JSON.parse(setting("needs") || "[]");
          return Array.isArray(parsed) ? parsed.filter(function (n) { return n && n.need; }) : [];
        } catch (e) {
          return [];
        }
      })(),
      pastedBreak: false,
      seq: 0,
    };

    container.textContent = "";
    container.appendChild(el("p", { class: "hubcheck-title" }, "Check your token"));
    container.appendChild(
      el(
        "p",
        { class: "hubcheck-intro", id: id + "-help" },
        "This page needs " + widget.roleWords + ". Paste your token to check it. It stays in this page: " +
          "it is not saved, and it is sent only to " + endpointHost + ", only when you press \u201cCheck with the Hub\u201d."
      )
    );
    var guard = guardLine(setting("guard"), setting("guard-help"), endpoint, endpointHost);
    if (guard) {
      container.appendChild(guard);
    }
    container.appendChild(el("label", { for: id + "-token" }, "Your access token"));
    var row = el("div", { class: "hubcheck-row" });
    widget.input = el("input", {
      id: id + "-token",
      class: "hubcheck-input",
      type: "password",
      autocomplete: "off",
      autocapitalize: "off",
      autocorrect: "off",
      spellcheck: "false",
      "aria-describedby": id + "-help",
      placeholder: (shape ? shape.prefix : "") + "\u2026",
    });
    // Its name says what it does ("Show", "Hide"), so it has no aria-pressed: a pressed "Hide"
    // would be read as the opposite of what it does.
    var toggle = el("button", { type: "button", class: "hubcheck-toggle", "aria-controls": id + "-token" }, "Show");
    var clear = el("button", { type: "button", class: "hubcheck-clear" }, "Clear");
    row.appendChild(widget.input);
    row.appendChild(toggle);
    row.appendChild(clear);
    container.appendChild(row);

    var actions = el("div", { class: "hubcheck-actions" });
    var offlineButton = el("button", { type: "button", class: "hubcheck-offline" }, "Check the format");
    widget.liveButton = el("button", { type: "button", class: "hubcheck-live hubcheck-primary" }, "Check with the Hub");
    actions.appendChild(offlineButton);
    actions.appendChild(widget.liveButton);
    container.appendChild(actions);

    widget.result = el("div", { class: "hubcheck-result", role: "status", "aria-live": "polite", "data-state": "idle" });
    container.appendChild(widget.result);

    widget.input.addEventListener("paste", function (event) {
      var text = event.clipboardData ? event.clipboardData.getData("text") : "";
      widget.pastedBreak = /[\r\n]/.test(text);
    });
    widget.input.addEventListener("input", function (event) {
      if (event.inputType !== "insertFromPaste") {
        widget.pastedBreak = false;
      }
    });
    widget.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        checkOffline(widget, false);
      }
    });
    offlineButton.addEventListener("click", function () {
      checkOffline(widget, false);
    });
    widget.liveButton.addEventListener("click", function () {
      if (widget.liveButton.getAttribute("aria-disabled") === "true") {
        return; // a check is under way
      }
      checkLive(widget);
    });
    toggle.addEventListener("click", function () {
      var show = widget.input.type === "password";
      widget.input.type = show ? "text" : "password";
      toggle.textContent = show ? "Hide" : "Show";
    });
    clear.addEventListener("click", function () {
      widget.seq += 1;
      widget.input.value = "";
      widget.pastedBreak = false;
      widget.input.type = "password";
      toggle.textContent = "Show";
      widget.result.textContent = "";
      widget.result.setAttribute("data-state", "idle");
      widget.result.removeAttribute("data-problems");
      widget.input.focus();
    });

    container.classList.add("hubcheck-ready");
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".hubcheck-token-check"), init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
