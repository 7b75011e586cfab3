// The relying party side of the code flow, done by openid-client (a certified OIDC RP library):
// discovery, PKCE, authorization URL; then, given the callback URL on stdin, the code exchange
// (state, iss and ID token checks), userinfo, and the RP-initiated logout URL. Prints one JSON
// line per step.
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const [issuer, clientId, redirectUri, postLogoutRedirectUri] = process.argv.slice(2)
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests], // the test server is plain http on 127.0.0.1
})
const verifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const nonce = client.randomNonce()
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
})
console.log(JSON.stringify({ authorization_url: url.href }))

const callback = (await lines.next()).value
const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
})
const claims = tokens.claims()
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
const logoutUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: postLogoutRedirectUri,
  state: 'signed-out-state',
})
console.log(JSON.stringify({ claims, userinfo, scope: tokens.scope, logout_url: logoutUrl.href }))
process.exit(0)
