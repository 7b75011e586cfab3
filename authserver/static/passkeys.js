// The passkey ceremonies (WebAuthn) of our pages: written by hand, no library, no bundler.
// An element with data-passkey="register" | "sign-in" | "second-factor" holds the endpoints
// (data-options, data-verify), the CSRF token (data-csrf) and the words to show (data-*);
// its button asks the browser (navigator.credentials.create or get) and posts the answer as
// JSON. The server sends PublicKeyCredential options as JSON (base64url for binary fields);
// the conversions below are the WebAuthn Level 3 JSON forms, done by hand for browsers that
// lack PublicKeyCredential.parseCreationOptionsFromJSON and toJSON.
"use strict";
(function () {
  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBytes(d.id), transports: d.transports };
    });
  }

  function creationOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return { publicKey: o };
  }

  function requestOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return { publicKey: o };
  }

  function credentialJSON(c) {
    var r = c.response, response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return {
      id: c.id, rawId: toText(c.rawId), type: c.type, response: response,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {}
    };
  }

  function postJSON(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf,
                 "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) throw new Error(data.error_description || "");
        return data;
      });
    });
  }

  // Where to go next: a page to open, or a form to post (the sign-in's next step).
  function proceed(data, csrf) {
    if (data.post) {
      var form = document.createElement("form");
      form.method = "post";
      form.action = data.post;
      var token = document.createElement("input");
      token.type = "hidden"; token.name = "csrf_token"; token.value = data.csrf_token || csrf;
      form.appendChild(token);
      document.body.appendChild(form);
      form.submit();
    } else if (data.location) {
      window.location.assign(data.location);
    }
  }

  // The first passkey's recovery codes, shown once: the account page's hidden block, alone.
  function showCodes(codes) {
    var shown = document.getElementById("passkey-recovery-codes");
    var list = shown.querySelector("ul");
    codes.forEach(function (code) {
      var item = document.createElement("li"), text = document.createElement("code");
      text.textContent = code;
      item.appendChild(text);
      list.appendChild(item);
    });
    Array.prototype.forEach.call(shown.parentElement.children, function (sibling) {
      sibling.hidden = sibling !== shown;
    });
    shown.hidden = false;
    shown.querySelector("h1").focus();
    window.scrollTo(0, 0);
  }

  function start(box, button) {
    var kind = box.dataset.passkey, csrf = box.dataset.csrf;
    var message = box.querySelector(".passkey-message");
    function say(text) {
      message.textContent = text || box.dataset.failed;
      message.hidden = false;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(box.dataset.unsupported);
      return;
    }
    message.hidden = true;
    button.disabled = true;
    // Adding a passkey long after signing in asks for the password too (recent_sign_in.py).
    var password = box.querySelector("input[type=password]");
    postJSON(box.dataset.options, csrf, password ? { password: password.value } : {}).then(function (options) {
      var asked = kind === "register"
        ? navigator.credentials.create(creationOptions(options))
        : navigator.credentials.get(requestOptions(options));
      return asked.then(function (credential) {
        if (!credential) throw new DOMException("", "NotAllowedError");
        var body = { credential: credentialJSON(credential) };
        var name = box.querySelector("input[type=text]");
        if (name) body.name = name.value;
        return postJSON(box.dataset.verify, csrf, body);
      }, function (refused) {
        // The person cancelled, the time ran out, or the authenticator already has one.
        throw new Error(refused && refused.name === "InvalidStateError"
          ? box.dataset.duplicate || box.dataset.cancelled : box.dataset.cancelled);
      });
    }).then(function (data) {
      if (data.recovery_codes) showCodes(data.recovery_codes);
      else proceed(data, csrf);
    }, function (failed) {
      button.disabled = false;
      say(failed instanceof TypeError ? "" : failed && failed.message);  // offline: our words
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(function (box) {
    var button = box.querySelector("button");
    button.addEventListener("click", function () { start(box, button); });
  });
})();
