package sigv4

import (
	"fmt"
	"strings"
	"time"

	"berth.dev/berth/internal/apierr"
)

// Fixed AWS messages.
const (
	msgMissingToken = "Missing Authentication Token"
	msgBadToken     = "The security token included in the request is invalid."
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgPayloadHash  = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgNoDate       = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	msgHostUnsigned = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgBothForms    = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter " +
		"or the Authorization header should be specified."
)

// maxEcho bounds how much of a client-supplied value an error message repeats.
const maxEcho = 128

func missingToken() error { return apierr.New(apierr.MissingAuthenticationToken, msgMissingToken) }

func badToken() error { return apierr.New(apierr.UnrecognizedClient, msgBadToken) }

func mismatch() error { return apierr.New(apierr.InvalidSignature, msgMismatch) }

func incomplete(format string, args ...any) error {
	return apierr.Newf(apierr.IncompleteSignature, format, args...)
}

func invalid(format string, args ...any) error {
	return apierr.Newf(apierr.InvalidSignature, format, args...)
}

// echo shortens a client-supplied value for inclusion in a message.
func echo(s string) string {
	if len(s) > maxEcho {
		return s[:maxEcho] + "..."
	}
	return s
}

// expired is AWS's message for a request time before the allowed window.
func expired(reqTime, now time.Time, window time.Duration) error {
	return invalid("Signature expired: %s is now earlier than %s (%s - %s)",
		reqTime.UTC().Format(amzDateLayout), now.Add(-window).UTC().Format(amzDateLayout),
		now.UTC().Format(amzDateLayout), spell(window))
}

// notYetCurrent is AWS's message for a request time after the allowed window.
func notYetCurrent(reqTime, now time.Time, window time.Duration) error {
	return invalid("Signature not yet current: %s is still later than %s (%s + %s)",
		reqTime.UTC().Format(amzDateLayout), now.Add(window).UTC().Format(amzDateLayout),
		now.UTC().Format(amzDateLayout), spell(window))
}

// spell writes a window the way AWS does ("5 min."), falling back to seconds
// for windows that are not whole minutes.
func spell(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return fmt.Sprintf("%d sec.", d/time.Second)
}

// requires joins AWS's "... requires ..." sentences into one message.
func requires(missing []string) error {
	return incomplete("%s", strings.Join(missing, " "))
}
