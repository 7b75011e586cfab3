// The relying party side of the code flow, done by openid-client (a certified OIDC RP library):
// discovery, PKCE, an authorization URL whose parameters (the claims parameter among them) are
// a signed request object (JAR); then, given the callback URL on stdin, the code exchange
// (state, iss and ID token checks), userinfo, and the RP-initiated logout URL; then it waits
// for the back-channel logout token. openid-client has no back-channel logout API, so that
// token is verified with jose (openid-client's own JOSE library) against the JWKS.
// Prints one JSON line per step.
import * as client from 'openid-client'
import * as jose from 'jose'
import { createServer } from 'node:http'
import { createInterface } from 'node:readline'

const [issuer, redirectUri, postLogoutRedirectUri] = process.argv.slice(2)
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const print = (value) => console.log(JSON.stringify(value))

// The RP's request-object key, and its back-channel logout endpoint.
const { privateKey, publicKey } = await jose.generateKeyPair('PS256', { extractable: true })
const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'rp-jar-1', alg: 'PS256', use: 'sig' }
let logoutToken
const logoutReceived = new Promise((resolve) => {
  logoutToken = resolve
})
const receiver = createServer((request, response) => {
  let body = ''
  request.on('data', (chunk) => { body += chunk })
  request.on('end', () => {
    logoutToken(new URLSearchParams(body).get('logout_token'))
    response.writeHead(200).end()
  })
})
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve))
const backchannelUri = `http://127.0.0.1:${receiver.address().port}/backchannel-logout`
print({ jwks: { keys: [jwk] }, backchannel_logout_uri: backchannelUri })

// A confidential client: Back-Channel Logout §2.2 allows an http logout URI only for one.
const clientId = (await lines.next()).value
const clientSecret = (await lines.next()).value
const config = await client.discovery(new URL(issuer), clientId, undefined,
  client.ClientSecretBasic(clientSecret), {
  execute: [client.allowInsecureRequests], // the test server is plain http on 127.0.0.1
})
const verifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const nonce = client.randomNonce()
const url = await client.buildAuthorizationUrlWithJAR(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile groups',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
  claims: JSON.stringify({ userinfo: { email: { essential: true } } }),
}, { key: privateKey, kid: jwk.kid })
print({ authorization_url: url.href })

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
print({ claims, userinfo, scope: tokens.scope, logout_url: logoutUrl.href })

const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri))
const { payload, protectedHeader } = await jose.jwtVerify(await logoutReceived, jwks, {
  issuer: config.serverMetadata().issuer,
  audience: clientId,
  typ: 'logout+jwt',
  algorithms: ['RS256'],
})
print({ logout_token: payload, header: protectedHeader, id_token_sid: claims.sid })
receiver.close()
process.exit(0)
