// Package notify tells people about urgent conversations away from the
// panel: it reads the domain events behind the assistant and e-mails the
// people who asked for it through the SMTP server of SENDBOX_SMTP_URL.
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"sendbox/config"
)

// Mailer sends e-mail through one SMTP server: smtp:// (STARTTLS when the
// server offers it, as on port 587) or smtps:// (TLS from the start, port
// 465), with the URL's user and password, from the address of ?from=.
type Mailer struct {
	host     string // host:port
	name     string // the host alone: TLS and AUTH check it
	implicit bool   // smtps: TLS from the first byte
	user     string
	password string
	from     mail.Address
	redacted string
	// TLSConfig is for tests and private servers; nil verifies as usual.
	TLSConfig *tls.Config
}

// NewMailer reads an SMTP URL (config.Config.SMTPURL).
func NewMailer(rawURL string) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP URL %q: want smtp://user:password@host:587?from=address or smtps://…:465", config.RedactURL(rawURL))
	}
	m := &Mailer{name: u.Hostname(), implicit: u.Scheme == "smtps", redacted: config.RedactURL(rawURL)}
	port := u.Port()
	if port == "" {
		port = "587"
		if m.implicit {
			port = "465"
		}
	}
	m.host = net.JoinHostPort(m.name, port)
	if u.User != nil {
		m.user = u.User.Username()
		m.password, _ = u.User.Password()
	}
	from := u.Query().Get("from")
	if from == "" && strings.Contains(m.user, "@") {
		from = m.user
	}
	if from == "" {
		from = "sendbox@" + m.name
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("SMTP URL %q: from=%q is not an e-mail address", m.redacted, from)
	}
	if a.Name == "" {
		a.Name = "sendbox"
	}
	m.from = *a
	return m, nil
}

// String is the server's URL with its password masked: safe to log or show.
func (m *Mailer) String() string { return m.redacted }

// From is the address e-mails are sent from.
func (m *Mailer) From() string { return m.from.Address }

// Message is one plain-text e-mail.
type Message struct {
	To      string
	Subject string
	Body    string
}

// sendTimeout bounds one delivery, from the dial to the server's answer.
const sendTimeout = 30 * time.Second

// Send delivers msg, or says why the server did not take it.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return fmt.Errorf("address %q: %w", msg.To, err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	conn, err := m.dial(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", m.host, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) }) // a cancelled send ends at once
	defer stop()
	c, err := smtp.NewClient(conn, m.name)
	if err != nil {
		return fmt.Errorf("greeting from %s: %w", m.host, err)
	}
	defer c.Close()
	if err := c.Hello("sendbox"); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !m.implicit {
		if err := c.StartTLS(m.tlsConfig()); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if m.user != "" {
		// PlainAuth refuses to send the password unencrypted except to
		// localhost.
		if err := c.Auth(smtp.PlainAuth("", m.user, m.password, m.name)); err != nil {
			return fmt.Errorf("sign in as %s: %w", m.user, err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("sender %s: %w", m.from.Address, err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("recipient %s: %w", to.Address, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(m.compose(to, msg)); err != nil {
		return fmt.Errorf("write the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("the server refused the message: %w", err)
	}
	return c.Quit()
}

func (m *Mailer) tlsConfig() *tls.Config {
	if m.TLSConfig != nil {
		c := m.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = m.name
		}
		return c
	}
	return &tls.Config{ServerName: m.name, MinVersion: tls.VersionTLS12}
}

func (m *Mailer) dial(ctx context.Context) (net.Conn, error) {
	if m.implicit {
		d := &tls.Dialer{Config: m.tlsConfig()}
		return d.DialContext(ctx, "tcp", m.host)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", m.host)
}

// compose writes the message: UTF-8 text, quoted-printable, marked as
// sent by a machine so that auto-responders keep quiet (RFC 3834).
func (m *Mailer) compose(to *mail.Address, msg Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	rand.Read(id)
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", m.from.String())
	h("To", to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(msg.Subject)))
	h("Date", time.Now().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id)+"@sendbox>")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(msg.Body, "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}

// oneLine keeps a header value on one line, whatever a customer's name holds.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// ErrNotConfigured is returned where e-mail is needed but no server is set.
var ErrNotConfigured = errors.New("no SMTP server is configured (SENDBOX_SMTP_URL)")
