package main

import (
	"flag"
	"net"
	"strings"

	"github.com/pion/webrtc/v4"
)

// rtcFlags are the live room's media settings.
type rtcFlags struct {
	udpPort    *int
	udpHost    *string
	publicIP   *string
	iceServers *string
	turnUser   *string
	turnCred   *string
}

type rtcConfig struct {
	udpPort    int
	udpHost    string
	publicIP   string
	iceServers []webrtc.ICEServer
}

func addRTCFlags(fs *flag.FlagSet) rtcFlags {
	return rtcFlags{
		udpPort:    fs.Int("rtc-udp-port", 7882, "UDP port for all media (0 picks a free one)"),
		udpHost:    fs.String("rtc-udp-host", "", "IP address to receive media on (default: all; 127.0.0.1 also offers loopback to local browsers)"),
		publicIP:   fs.String("rtc-public-ip", "", "public IP to advertise for media when behind 1:1 NAT"),
		iceServers: fs.String("ice-servers", "", "comma-separated STUN/TURN URLs given to clients (stun:…, turn:…, turns:…)"),
		turnUser:   fs.String("turn-username", "", "username for the TURN servers in --ice-servers"),
		turnCred:   fs.String("turn-credential", "", "credential for the TURN servers in --ice-servers"),
	}
}

func (f rtcFlags) config() (rtcConfig, error) {
	c := rtcConfig{udpPort: *f.udpPort, udpHost: *f.udpHost, publicIP: *f.publicIP}
	if c.udpPort < 0 || c.udpPort > 65535 {
		return c, usagef("--rtc-udp-port must be between 0 and 65535")
	}
	for _, ip := range []struct{ flag, v string }{{"--rtc-udp-host", c.udpHost}, {"--rtc-public-ip", c.publicIP}} {
		if ip.v != "" && net.ParseIP(ip.v) == nil {
			return c, usagef("%s must be an IP address, not %q", ip.flag, ip.v)
		}
	}
	var stun, turn []string
	for _, u := range strings.Split(*f.iceServers, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		scheme, _, _ := strings.Cut(u, ":")
		switch scheme {
		case "stun", "stuns":
			stun = append(stun, u)
		case "turn", "turns":
			turn = append(turn, u)
		default:
			return c, usagef("--ice-servers: %q is not a stun:, stuns:, turn: or turns: URL", u)
		}
	}
	if len(turn) > 0 && (*f.turnUser == "" || *f.turnCred == "") {
		return c, usagef("TURN servers need --turn-username and --turn-credential")
	}
	if len(stun) > 0 {
		c.iceServers = append(c.iceServers, webrtc.ICEServer{URLs: stun})
	}
	if len(turn) > 0 {
		c.iceServers = append(c.iceServers, webrtc.ICEServer{URLs: turn, Username: *f.turnUser, Credential: *f.turnCred})
	}
	return c, nil
}
