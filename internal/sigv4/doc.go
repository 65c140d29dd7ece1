// Package sigv4 verifies AWS Signature Version 4 on incoming requests.
//
// It owns the server side of SigV4 for berth: parsing the credentials a
// client presents (the `Authorization: AWS4-HMAC-SHA256 ...` header, or the
// presigned X-Amz-* query parameters), checking the request time, looking up
// the secret and recomputing the signature. It does not own credentials
// (the caller supplies Lookup), routing, or reading the body.
//
// # Algorithm
//
//  1. Parse Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request,
//     SignedHeaders=<h1;h2;...> and Signature=<hex>.
//  2. Take the request time from X-Amz-Date (20060102T150405Z), else from the
//     RFC 1123 Date header; its day must equal the scope date, and it must lie
//     within ±MaxSkew of now (presigned: from date−MaxSkew to date+X-Amz-Expires).
//  3. Check the scope service, look up the secret for the key id.
//  4. Canonical request = method, canonical URI, canonical query, canonical
//     headers, signed-header list, payload hash, joined by "\n":
//     - URI: the path as sent on the wire, each byte outside A-Za-z0-9-_.~/
//     percent-encoded again (clients double-encode for non-S3 services).
//     The RFC 3986 dot-segment/duplicate-slash normalised form is also
//     accepted, because botocore normalises and the Go SDK does not.
//     - query: pairs decoded, re-encoded with %XX for everything outside
//     A-Za-z0-9-_.~, sorted by name then value (X-Amz-Signature dropped
//     when presigned).
//     - headers: for each SignedHeaders name, "name:value\n" with values
//     trimmed, inner whitespace runs collapsed, repeats joined by ",";
//     host comes from Request.Host, content-length from the header or
//     Request.ContentLength.
//     - payload: hex SHA-256 of the body; a signed X-Amz-Content-Sha256 must
//     equal it (presigned requests may also use UNSIGNED-PAYLOAD).
//  5. String to sign = "AWS4-HMAC-SHA256\n" + time + "\n" + scope + "\n" +
//     hex(SHA-256(canonical request)); key = HMAC chain over "AWS4"+secret,
//     date, region, service, "aws4_request"; signature = hex HMAC of the
//     string to sign. Compared in constant time.
//
// # Invariants
//
//   - Only headers named in SignedHeaders are trusted or used; there is no
//     built-in header list. host and the time header must be among them.
//   - Every error returned is an *apierr.Error with an authentication-layer
//     code (MissingAuthenticationToken, IncompleteSignature,
//     InvalidSignature, UnrecognizedClient), or ServerException for a
//     misconfigured Verifier.
//   - an X-Amz-Security-Token (temporary credentials issued by STS) is
//     checked by Verifier.Session; without one, any token is refused.
//   - The package keeps no state, logs nothing and never reads the clock:
//     the caller passes now.
package sigv4
