// The FAPI 2.0 flow done by openid-client: private_key_jwt client authentication, a pushed
// authorization request (PAR) with PKCE, the code exchange with a DPoP proof, then a
// DPoP-protected call to /api/me. The server signs this client's ID token with ES256 (FAPI 2.0
// §5.4.1), which openid-client checks against the JWKS. Given the client_id and then the
// callback URL on stdin. Prints one JSON line per step.
import * as client from 'openid-client'
import * as jose from 'jose'
import { createInterface } from 'node:readline'

const [issuer, redirectUri] = process.argv.slice(2)
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const print = (value) => console.log(JSON.stringify(value))

const signing = await jose.generateKeyPair('PS256', { extractable: true })
const jwk = { ...(await jose.exportJWK(signing.publicKey)), kid: 'bank-node-1', alg: 'PS256' }
print({ jwks: { keys: [jwk] } })

const clientId = (await lines.next()).value
const config = await client.discovery(
  new URL(issuer), clientId,
  { token_endpoint_auth_method: 'private_key_jwt', id_token_signed_response_alg: 'ES256' },
  client.PrivateKeyJwt({ key: signing.privateKey, kid: jwk.kid }),
  { execute: [client.allowInsecureRequests] },
)
client.enableNonRepudiationChecks(config) // the ID token's signature, against the JWKS
const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
const verifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const url = await client.buildAuthorizationUrlWithPAR(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
})
print({ authorization_url: url.href })

const callback = (await lines.next()).value
const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
}, undefined, { DPoP: dpop })
const response = await client.fetchProtectedResource(
  config, tokens.access_token, new URL(`${issuer}/api/me`), 'GET', undefined, undefined,
  { DPoP: dpop })
print({
  token_type: tokens.token_type,
  status: response.status,
  me: await response.json(),
  id_token_alg: JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url')).alg,
})
process.exit(0)
