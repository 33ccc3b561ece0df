package sse

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"testing"
)

func TestParseJWKS(t *testing.T) {
	const (
		rsaN  = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"
		ecX   = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"
		ecY   = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
		edX   = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
		short = "AQAB"
	)
	for _, tc := range []struct {
		name, doc string
		want      string // the keys' types and kids, or the error
	}{
		{"every key type", `{"keys": [{"kty": "RSA", "kid": "r", "use": "sig", "alg": "RS256", "n": "` + rsaN + `", "e": "AQAB"},
			{"kty": "EC", "kid": "e", "crv": "P-256", "x": "` + ecX + `", "y": "` + ecY + `"}, {"kty": "OKP", "kid": "o", "crv": "Ed25519", "x": "` + edX + `"}]}`,
			"[rsa:r ecdsa:e ed25519:o]"},
		{"keys for encryption and of other types are skipped", `{"keys": [{"kty": "RSA", "kid": "enc", "use": "enc", "n": "` + rsaN + `", "e": "AQAB"}, {"kty": "oct", "k": "c2VjcmV0"}]}`, "[]"},
		{"a point off the curve", `{"keys": [{"kty": "EC", "kid": "e", "crv": "P-256", "x": "` + ecX + `", "y": "` + ecX + `"}]}`, `key 0 (kid "e"): P256 point not on curve`},
		{"coordinates of the wrong size", `{"keys": [{"kty": "EC", "kid": "e", "crv": "P-256", "x": "` + short + `", "y": "` + ecY + `"}]}`, `key 0 (kid "e"): x and y must be 32 bytes for P-256`},
		{"an unknown curve", `{"keys": [{"kty": "EC", "kid": "e", "crv": "secp256k1", "x": "` + ecX + `", "y": "` + ecY + `"}]}`, `key 0 (kid "e"): unsupported curve "secp256k1"`},
		{"an RSA key without e", `{"keys": [{"kty": "RSA", "kid": "r", "n": "` + rsaN + `"}]}`, `key 0 (kid "r"): n and e must be base64url big-endian integers`},
		{"an X25519 key", `{"keys": [{"kty": "OKP", "kid": "x", "crv": "X25519", "x": "` + edX + `"}]}`, `key 0 (kid "x"): want crv Ed25519 and a 32-byte x`},
		{"not JSON", `keys`, "not a JWKS document: invalid character 'k' looking for beginning of value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := parseJWKS([]byte(tc.doc))
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				var names []string
				for _, k := range keys {
					kind := "?"
					switch k.key.(type) {
					case *rsa.PublicKey:
						kind = "rsa"
					case *ecdsa.PublicKey:
						kind = "ecdsa"
					case ed25519.PublicKey:
						kind = "ed25519"
					}
					names = append(names, kind+":"+k.kid)
				}
				got = fmt.Sprint(names)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
