// A single-page app on oidc-client-ts (a certified-style OIDC library for browsers), served
// from another origin than the server: discovery, the code flow with PKCE, userinfo, and a
// silent renew with the refresh token, every call made by the browser under CORS.
/* global oidc, CONFIG */
const manager = new oidc.UserManager({
  authority: CONFIG.authority,
  client_id: CONFIG.client_id,
  redirect_uri: `${location.origin}/callback.html`,
  response_type: 'code',
  scope: 'openid profile email',
  loadUserInfo: true,
  automaticSilentRenew: false,
  userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
})

function show (result) {
  document.getElementById('result').textContent = JSON.stringify(result)
}

async function callback () {
  const user = await manager.signinRedirectCallback()
  const renewed = await manager.signinSilent() // the refresh_token grant
  const answer = await fetch(`${CONFIG.authority}/oauth/userinfo`, {
    headers: { Authorization: `Bearer ${renewed.access_token}` },
  })
  show({
    ok: true,
    sub: user.profile.sub,
    email: user.profile.email,
    first_access_token: user.access_token,
    had_refresh_token: Boolean(user.refresh_token),
    renewed_access_token: renewed.access_token,
    userinfo_status: answer.status,
    userinfo: await answer.json(),
  })
}

const run = location.pathname.endsWith('/callback.html') ? callback : () => manager.signinRedirect()
run().catch((error) => show({ ok: false, error: String((error && error.message) || error) }))
