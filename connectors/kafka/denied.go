package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
)

// deniedErrors are the errors with which Kafka refuses a client's
// credentials or rights.
var deniedErrors = []error{kerr.SaslAuthenticationFailed, kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed,
	kerr.ClusterAuthorizationFailed, kerr.TransactionalIDAuthorizationFailed}

// Denied reports whether Kafka refused access with err: wrong SASL
// credentials or missing ACLs, which retrying cannot cure.
func Denied(err error) bool {
	for _, d := range deniedErrors {
		if errors.Is(err, d) {
			return true
		}
	}
	return false
}
