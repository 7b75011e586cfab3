// Dynamic client registration done by openid-client (dynamicClientRegistration, with an
// initial access token), then the code flow with the client it registered: PKCE, the code
// exchange with its client_secret_basic, userinfo. Given the callback URL on stdin.
// Prints one JSON line per step.
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const [issuer, redirectUri, initialAccessToken] = process.argv.slice(2)
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const print = (value) => console.log(JSON.stringify(value))

const config = await client.dynamicClientRegistration(
  new URL(issuer),
  {
    client_name: 'openid-client registered',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid email',
  },
  client.ClientSecretBasic(), // the secret the registration returns
  { initialAccessToken, execute: [client.allowInsecureRequests] },
)
const metadata = config.clientMetadata()
const verifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid email',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
})
print({ client_id: metadata.client_id, authorization_url: url.href })

const callback = (await lines.next()).value
const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  idTokenExpected: true,
})
const claims = tokens.claims()
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
print({ claims, userinfo })
process.exit(0)
