package store

import (
	"time"
)

// Container is a container's record, in Docker's shape and with Docker's
// field names, so that inspect prints it as Docker does (Id, Name with its
// slash, Config, HostConfig, State, ...). Fields Docker does not have are
// the store's own and say so.
type Container struct {
	ID      string    `json:"Id"`
	Created time.Time // UTC
	// Path and Args are the process's command: the entrypoint and the
	// command joined, the first word in Path.
	Path  string
	Args  []string
	State State
	// Image is the image's id ("sha256:..."); Config.Image is the
	// reference the user gave.
	Image string
	// LogPath is the container's log file ("" until it has one).
	LogPath string
	// Name is the container's name with a leading slash, as Docker shows
	// it in inspect ("/web"); ps prints it without.
	Name         string
	RestartCount int
	Driver       string // the root's storage ("overlay")
	Mounts       []MountPoint
	Config       Config
	HostConfig   HostConfig
	// Endpoints are the networks the container joins, in order (eth0,
	// eth1...): its --network NAME, then those of network connect, each
	// with its aliases. The store's own: Docker keeps them in
	// NetworkSettings.Networks, which inspect fills in from them. Null
	// (a record older than them, or --network none or host): its
	// --network NAME's only; empty: none (all disconnected).
	Endpoints []Endpoint
	// NetworkSettings is not kept in the record: inspect fills it in,
	// for a container on a network, from CNI's cached result.
	NetworkSettings *NetworkSettings `json:",omitempty"`
}

// NetworkSettings is the container's place on its network, Docker's
// (the top-level fields repeat its one network's).
type NetworkSettings struct {
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
	// Ports are the published ports while the container is on its
	// network: "80/tcp": [{HostIp: "0.0.0.0", HostPort: "8080"}].
	Ports    map[string][]PortBinding
	Networks map[string]EndpointSettings
}

// Endpoint is a network the container joins, and its names there.
type Endpoint struct {
	Network string
	Aliases []string `json:",omitempty"`
	// IPv4Address is the address asked for (--ip, network connect --ip).
	IPv4Address string `json:",omitempty"`
}

// PortBinding is a host address and port a container's port is published
// on (HostIp "" in HostConfig.PortBindings for all the host's addresses).
type PortBinding struct {
	HostIp   string
	HostPort string
}

// EndpointSettings is the container's place on one network.
type EndpointSettings struct {
	IPAMConfig  *EndpointIPAMConfig // the address asked for; null without one (Docker's)
	Aliases     []string            `json:",omitempty"` // --network-alias, network connect --alias
	DNSNames    []string            `json:",omitempty"` // the names it resolves by on a user-defined network
	NetworkID   string
	IPAddress   string
	IPPrefixLen int
	Gateway     string
	MacAddress  string
}

// EndpointIPAMConfig is the address a container asked for on a network
// (--ip), Docker's.
type EndpointIPAMConfig struct {
	IPv4Address string `json:",omitempty"`
}

// Config is what the container runs, Docker's Config: the image's config
// with the user's flags applied.
type Config struct {
	Hostname     string
	Domainname   string
	User         string
	AttachStdin  bool
	AttachStdout bool
	AttachStderr bool
	Tty          bool
	OpenStdin    bool
	StdinOnce    bool
	Env          []string
	Cmd          []string
	Image        string // the reference as given ("busybox")
	WorkingDir   string
	Entrypoint   []string
	Labels       map[string]string
	StopSignal   string `json:",omitempty"`
	StopTimeout  *int   `json:",omitempty"` // seconds
	MacAddress   string `json:",omitempty"` // --mac-address (Docker's, before API 1.44 moved it to the endpoint)
	// ExposedPorts are the image's, --expose's and -p's ports:
	// "80/tcp": {}.
	ExposedPorts map[string]struct{} `json:",omitempty"`
}

// HostConfig is how the container is set up on the host, Docker's
// HostConfig.
type HostConfig struct {
	Binds          []string
	LogConfig      LogConfig
	NetworkMode    string
	Dns            []string                 `json:",omitempty"` // --dns
	DnsOptions     []string                 `json:",omitempty"` // --dns-option
	DnsSearch      []string                 `json:",omitempty"` // --dns-search
	ExtraHosts     []string                 `json:",omitempty"` // --add-host, as given
	PortBindings   map[string][]PortBinding // -p: "80/tcp": [{HostIp, HostPort}]
	RestartPolicy  RestartPolicy
	AutoRemove     bool
	CapAdd         []string
	CapDrop        []string
	Privileged     bool
	ReadonlyRootfs bool
	Tmpfs          map[string]string `json:",omitempty"`
	Sysctls        map[string]string `json:",omitempty"` // --sysctl
	CpuShares      int64
	Memory         int64
	MemorySwap     int64
	NanoCpus       int64
	PidsLimit      *int64

	// PublishAllPorts is -P; PortBindings's HostPort is "" for a host
	// port chosen at start.
	PublishAllPorts bool
}

// LogConfig names the log driver and its options (max-size, max-file).
type LogConfig struct {
	Type   string // "json-file"
	Config map[string]string
}

// RestartPolicy is --restart: Name is "no", "on-failure", "always" or
// "unless-stopped"; MaximumRetryCount is on-failure's N (0: no limit).
type RestartPolicy struct {
	Name              string
	MaximumRetryCount int
}

// MountPoint is one of the container's mounts as inspect shows it.
type MountPoint struct {
	Type        string // "bind", "volume", "tmpfs"
	Name        string `json:",omitempty"` // a volume's name
	Source      string
	Destination string
	Driver      string `json:",omitempty"` // a volume's driver ("local")
	Mode        string
	RW          bool
	Propagation string
}

// Status is State.Status: Docker's container states.
type Status string

const (
	Created    Status = "created"
	Running    Status = "running"
	Paused     Status = "paused"
	Restarting Status = "restarting"
	Removing   Status = "removing"
	Exited     Status = "exited"
	Dead       Status = "dead"
)

// Statuses are the valid values of Status (ps --filter status=).
var Statuses = []Status{Created, Restarting, Running, Removing, Paused, Exited, Dead}

// ExitUnknown is the exit code of a container whose process went away
// without anyone recording its status (its monitor killed, the machine
// rebooted): Docker shows such a container as "Exited (255)" (Podman
// records -1, which its ps prints the same way as any code).
const ExitUnknown = 255

// State is the container's state, Docker's State. Status is derived from
// the flags; the Set methods keep the two in step.
type State struct {
	Status     Status
	Running    bool
	Paused     bool
	Restarting bool
	OOMKilled  bool
	Dead       bool
	Pid        int
	ExitCode   int
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time

	// The store's own: the process that Pid was when it was recorded (its
	// start time, field 22 of /proc/PID/stat, and the boot it ran in), so
	// that a reused pid, or a reboot, does not read as the container
	// still running.
	PidStartTime uint64 `json:",omitempty"`
	BootID       string `json:",omitempty"`
	// The store's own: the container's monitor, which outlives the
	// process by the moment it takes to write the exit record (see
	// Store.gone), and which rm waits for. 0 when there is none.
	MonitorPid       int    `json:",omitempty"`
	MonitorStartTime uint64 `json:",omitempty"`
	// The store's own: a start in flight. The command that starts the
	// container's process (run -d) sets it before it starts the monitor;
	// SetRunning and SetStopped clear it. Killed before it recorded the
	// process, the command leaves it set, and the store then learns from
	// the init's pid file (Store.PidPath) and the exit record whether the
	// process started (see Store.started).
	Starting bool `json:",omitempty"`
}

// Process identifies a process across pid reuse and reboots.
type Process struct {
	Pid       int
	StartTime uint64 // field 22 of /proc/PID/stat
	BootID    string // /proc/sys/kernel/random/boot_id
}

// process is the process the state records.
func (s *State) process() Process {
	return Process{Pid: s.Pid, StartTime: s.PidStartTime, BootID: s.BootID}
}

// Monitor is the container's monitor process (Pid 0 when none is
// recorded).
func (s *State) Monitor() Process {
	return Process{Pid: s.MonitorPid, StartTime: s.MonitorStartTime, BootID: s.BootID}
}

// SetMonitor records the running container's monitor m (after
// SetRunning, in the same boot).
func (s *State) SetMonitor(m Process) {
	s.MonitorPid, s.MonitorStartTime = m.Pid, m.StartTime
}

// SetRunning records that the container's process p started at at.
func (s *State) SetRunning(p Process, at time.Time) {
	s.Running, s.Paused, s.Restarting, s.Dead, s.OOMKilled = true, false, false, false, false
	s.Starting = false
	s.Pid, s.PidStartTime, s.BootID = p.Pid, p.StartTime, p.BootID
	s.MonitorPid, s.MonitorStartTime = 0, 0
	s.ExitCode, s.Error = 0, ""
	s.StartedAt = at.UTC()
	s.Status = s.derive()
}

// SetStopped records that the container's process exited with code at at.
func (s *State) SetStopped(code int, at time.Time) {
	s.Running, s.Paused, s.Restarting, s.Starting = false, false, false, false
	s.Pid, s.PidStartTime = 0, 0 // the monitor's stay: rm waits for it
	s.ExitCode = code
	s.FinishedAt = at.UTC()
	s.Status = s.derive()
}

// SetRestarting records that the process exited with code at at and the
// restart policy is about to start it again.
func (s *State) SetRestarting(code int, at time.Time) {
	s.SetStopped(code, at)
	s.Running, s.Restarting = true, true
	s.Status = s.derive()
}

// SetPaused records a pause (true) or its end (false).
func (s *State) SetPaused(paused bool) {
	s.Paused = paused
	s.Status = s.derive()
}

// SetDead records a container that could not be removed nor used again.
func (s *State) SetDead() {
	s.Running, s.Paused, s.Restarting, s.Dead = false, false, false, true
	s.Status = s.derive()
}

// derive is the Status the flags say (Docker's State.StateString).
func (s *State) derive() Status {
	switch {
	case s.Running && s.Paused:
		return Paused
	case s.Running && s.Restarting:
		return Restarting
	case s.Running:
		return Running
	case s.Dead:
		return Dead
	case s.StartedAt.IsZero():
		return Created
	}
	return Exited
}
