// A real OpenID Connect provider for the tests: the npm package oidc-provider (the certified Node
// implementation), on a localhost port, with one client (the app under test).
//
//   node tests/oidc_provider.mjs PORT REDIRECT_URI CLIENT_SECRET
//
// What a person does at the provider (type a password, consent) is done by /interaction/: it signs in
// the account last named by POST /_control/login. The tests also use /_control/ to add accounts, to read
// how often the keys (JWKS) were fetched, and to make the provider misbehave the ways an attacker or a
// misconfigured provider would: a token for another issuer or audience, an expired one, one signed
// with a key that is not the provider's, one that repeats an earlier nonce. Those tokens are made from
// the real one the provider just issued, re-signed; everything else in the flow is the provider's own.
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [port, redirectUri, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { privateKey, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}
const key = await signingKey('provider-key');
const stranger = await signingKey('provider-key'); // same kid, another key: a forged signature

const accounts = new Map(); // sub -> claims
let current = null; // the account the next interaction signs in
let fault = null; // how to spoil the next ID token, or null
const stats = { jwks: 0, tokens: 0 };
const nonces = [];

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'tryghed',
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [key.jwk] },
  pkce: { required: () => true },
  conformIdTokenClaims: false, // the scope's claims go into the ID token, as Entra ID puts roles there
  claims: { openid: ['sub'], email: ['email', 'email_verified', 'xms_edov'], profile: ['name', 'roles', 'groups'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['tests-only-cookie-key'] },
  findAccount: (ctx, sub) =>
    accounts.has(sub) ? { accountId: sub, claims: () => ({ sub, ...accounts.get(sub) }) } : undefined,
});
const handle = provider.callback();

async function finishInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const grant = new provider.Grant({ accountId: current, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: current }, consent: { grantId } }, {
    mergeWithLastSubmission: false,
  });
}

async function spoil(idToken) {
  const claims = jose.decodeJwt(idToken);
  nonces.push(claims.nonce);
  const mode = fault;
  fault = null;
  if (!mode) return idToken;
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'wrong_issuer') claims.iss = 'http://127.0.0.1:1/not-the-issuer';
  if (mode === 'wrong_audience') claims.aud = 'some-other-client';
  if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (mode === 'replayed_nonce') claims.nonce = nonces[nonces.length - 2];
  const signer = mode === 'bad_signature' ? stranger : key;
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'provider-key' }).sign(signer.privateKey);
}

function tokenEndpoint(req, res) {
  // buffer the provider's answer, spoil its ID token when asked, then send it
  const chunks = [];
  const end = res.end.bind(res);
  res.write = (chunk) => (chunks.push(Buffer.from(chunk)), true);
  res.end = (chunk) => {
    if (chunk) chunks.push(Buffer.from(chunk));
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    const send = (text) => {
      res.setHeader('content-length', Buffer.byteLength(text));
      end(text);
    };
    if (!body.id_token) return send(JSON.stringify(body));
    stats.tokens += 1;
    spoil(body.id_token).then((idToken) => send(JSON.stringify({ ...body, id_token: idToken })));
    return res;
  };
  handle(req, res);
}

async function control(req, res) {
  let text = '';
  for await (const chunk of req) text += chunk;
  const body = text ? JSON.parse(text) : {};
  const path = req.url.split('?')[0];
  if (path === '/_control/account') accounts.set(body.sub, body.claims);
  if (path === '/_control/login') current = body.sub;
  if (path === '/_control/fault') fault = body.mode;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ...stats, issuer }));
}

http
  .createServer((req, res) => {
    const path = req.url.split('?')[0];
    if (path.startsWith('/_control/')) return control(req, res);
    if (path.startsWith('/interaction/')) {
      return finishInteraction(req, res).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    }
    if (path === '/jwks') stats.jwks += 1;
    if (path === '/token' && req.method === 'POST') return tokenEndpoint(req, res);
    return handle(req, res);
  })
  .listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
