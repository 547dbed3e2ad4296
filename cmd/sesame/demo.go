package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sesame-tool/sesame/steps/awssim"
)

// demoVerifyDelay is how long the simulated SES takes to verify a domain
// once its DKIM records are published: long enough to see the wait.
const demoVerifyDelay = 10 * time.Second

// demo is an in-process simulated AWS account, with its DNS server and its
// SES-like SMTP endpoint, behind `sesame --demo`.
type demo struct {
	sim      *awssim.Sim
	url      string
	dnsAddr  string
	smtpAddr string
	certFile string
	dir      string
	stops    []func()
}

// startDemo starts the simulator on loopback ports. No AWS credentials are
// read or needed.
func startDemo() (*demo, error) {
	d := &demo{sim: awssim.New(awssim.Options{VerifyDelay: demoVerifyDelay, ReviewDelay: 30 * time.Second})}
	dir, err := os.MkdirTemp("", "sesame-demo-")
	if err != nil {
		return nil, err
	}
	// The directory stays after the demo: its relay files are there to read.
	d.dir = dir
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("demo: start the simulated AWS endpoint: %w", err)
	}
	d.url = "http://" + l.Addr().String()
	go func() { _ = d.sim.Serve(l) }()
	d.stops = append(d.stops, func() { d.sim.Release(); l.Close() })
	addr, stop, err := d.sim.ServeDNS("127.0.0.1:0")
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("demo: start the simulated DNS server: %w", err)
	}
	d.dnsAddr = addr
	d.stops = append(d.stops, stop)
	return d, nil
}

// prepare readies the simulated account for the operator's answers: a
// hosted zone for the domain (with MX and TXT records of its own, so the
// MX skip and the TXT merge show) and an SMTP endpoint for the region.
func (d *demo) prepare(domain, region string) error {
	if _, err := d.sim.EnsureDemoZone(domain); err != nil {
		return fmt.Errorf("demo: create a hosted zone for %s: %w", domain, err)
	}
	if d.smtpAddr != "" {
		return nil
	}
	d.certFile = filepath.Join(d.dir, "smtp-ca.pem")
	addr, stop, err := d.sim.ServeSMTP(awssim.SMTPConfig{Addr: "127.0.0.1:0", Region: region, CertOut: d.certFile})
	if err != nil {
		return fmt.Errorf("demo: start the simulated SES SMTP endpoint: %w", err)
	}
	d.smtpAddr = addr
	d.stops = append(d.stops, stop)
	return nil
}

// config is an AWS configuration pointing every service at the simulator.
func (d *demo) config(region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(d.url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIADEMODEMODEMODEMO", "demo-secret-key-not-a-real-one-0000000000", ""),
	}
}

func (d *demo) stop() {
	for i := len(d.stops) - 1; i >= 0; i-- {
		d.stops[i]()
	}
	d.stops = nil
}
