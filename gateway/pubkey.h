/*
 * pubkey.h - keys of the public-key signature schemes (Ed25519, ECDSA
 * P-256 with SHA-256, RSA PKCS#1 v1.5 with SHA-256): read from a route's
 * secret in the forms producers' consoles show, and used to verify (and,
 * for `hookgate sign` and the tests, to sign).
 *
 * Only Ed25519, EC P-256 and RSA keys of 2048 to 8192 bits are ever
 * returned; every other key type or curve is refused.  Reasons (*why) are
 * constant texts that never contain key bytes.
 */
#ifndef HG_PUBKEY_H
#define HG_PUBKEY_H

#include <openssl/evp.h>
#include <stddef.h>

enum pubkey_kind { PUBKEY_NONE = 0, PUBKEY_ED25519, PUBKEY_EC_P256, PUBKEY_RSA };

#define PUBKEY_INPUT_MAX 8192 /* the largest key text pubkey_parse reads, in bytes */
#define PUBKEY_SIG_MAX   1024 /* the largest signature (RSA 8192 bits), in bytes */

/* pubkey_parse - a key from the secret bytes s[0..n) (not NUL-terminated
 * necessarily; surrounding ASCII white space is ignored), in one of the forms:
 *   PEM "PUBLIC KEY" (SPKI) or "RSA PUBLIC KEY" (PKCS#1) - public;
 *   PEM "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY" (SEC1, an "EC PARAMETERS"
 *       block before it is skipped), "RSA PRIVATE KEY" (PKCS#1) - private;
 *   whpk_<base64 of 32 raw bytes or a 44-byte SPKI DER> - Ed25519 public;
 *   whsk_<base64 of a 32-byte seed or 64 bytes seed+public> - Ed25519 private;
 *   64 hex digits - the raw Ed25519 public key (Discord's console), or with
 *       want_private the Ed25519 seed;
 *   standard base64 of an SPKI DER (SendGrid's console: an EC P-256 key).
 * Private forms are returned (with *priv = 1) whatever want_private says:
 * a private key verifies as well as its public half.
 * @param[in]  want_private  1: read 64 hex digits as a seed (for signing)
 * @param[out] out   on HG_OK the key (the caller EVP_PKEY_free's it)
 * @param[out] priv  on HG_OK 1 for a private key, 0 for a public one
 * @param[out] why   on HG_EINVAL a constant reason
 * @return HG_OK; 1 when s is in no key form at all (an HMAC secret, say);
 *         HG_EINVAL when s looks like a key form but is malformed, or is a key
 *         of another type or size; HG_ENOMEM.
 * Every decoded copy of private key material is wiped. */
int pubkey_parse(const unsigned char *s, size_t n, int want_private, EVP_PKEY **out, int *priv,
                 const char **why);

/* pubkey_rsa - an RSA public key from its big-endian modulus and exponent
 * (a JWK's n and e).  HG_EINVAL with *why for a modulus outside 2048..8192
 * bits, an even or tiny exponent or an exponent over 64 bits. */
int pubkey_rsa(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
               EVP_PKEY **out, const char **why);

/* pubkey_p256 - an EC P-256 public key from its affine coordinates (a JWK's
 * x and y, 32 bytes each).  HG_EINVAL with *why when the point is not on
 * the curve. */
int pubkey_p256(const unsigned char x[32], const unsigned char y[32], EVP_PKEY **out,
                const char **why);

/* pubkey_kind - which supported kind k is; PUBKEY_NONE for anything else
 * (another curve or type, RSA outside 2048..8192 bits, NULL). */
enum pubkey_kind pubkey_kind(const EVP_PKEY *k);

/* pubkey_public - a public-only copy of k (for keeping a verification key
 * without its private half).  NULL on failure. */
EVP_PKEY *pubkey_public(const EVP_PKEY *k);

/* pubkey_verify flags */
#define PUBKEY_SIG_RAW 0x1u /* ECDSA: the 64-byte r||s of JWS ES256 instead of DER */

/* pubkey_verify - 1 if sig[0..siglen) is a valid signature of msg[0..len)
 * by k: Ed25519 (64 bytes, pure), ECDSA P-256 with SHA-256 (DER of at most
 * 72 bytes, or with PUBKEY_SIG_RAW exactly 64 bytes r||s), RSA PKCS#1 v1.5
 * with SHA-256 (exactly the modulus size).  0 otherwise: any junk, a wrong
 * length or a key of no supported kind.  Leaves no OpenSSL error queued. */
int pubkey_verify(EVP_PKEY *k, unsigned flags, const unsigned char *sig, size_t siglen,
                  const void *msg, size_t len);

/* pubkey_sign - the signature pubkey_verify accepts for msg with the
 * private key k (same flags) into sig[0..cap), its length in *siglen.
 * Ed25519 and RSA signatures are deterministic, ECDSA ones are not.
 * @return HG_OK; HG_EINVAL (no private key, unsupported kind, OpenSSL
 *         failure); HG_ETOOBIG when cap is too small. */
int pubkey_sign(EVP_PKEY *k, unsigned flags, const void *msg, size_t len, unsigned char *sig,
                size_t cap, size_t *siglen);

#endif
