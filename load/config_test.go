package load

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseClients(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]int{"1,16,64": {1, 16, 64}, " 8 ": {8}, "2, 4": {2, 4}} {
		got, err := ParseClients(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseClients(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, message := range map[string]string{
		"":      "--clients is empty",
		"1,,2":  `"" is not a client count`,
		"0":     `"0" is not a client count from 1 to 4096`,
		"-3":    `"-3" is not a client count`,
		"1,x":   `"x" is not a client count`,
		"5000":  `"5000" is not a client count from 1 to 4096`,
		"1.5,2": `"1.5" is not a client count`,
	} {
		if _, err := ParseClients(in); err == nil || !strings.Contains(err.Error(), message) {
			t.Errorf("ParseClients(%q) = %v, want an error with %q", in, err, message)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := func() Config {
		return Config{Scenarios: Scenarios(), Clients: []int{1, 16}, Duration: time.Second, Codes: 100, ManyCodes: 10,
			BaseURL: "http://127.0.0.1:8080", AdminKey: "pk_x", DatabaseURL: "sqlite:/tmp/x.db"}
	}
	if c := valid(); c.Validate() != nil {
		t.Fatalf("Validate of a valid configuration: %v", c.Validate())
	}
	tests := []struct {
		name    string
		change  func(*Config)
		message string
	}{
		{"no scenario", func(c *Config) { c.Scenarios = nil }, "no scenario given: name one or more of redeem-hot, redeem-many, validate, healthz, baseline"},
		{"unknown scenario", func(c *Config) { c.Scenarios = []string{"redeem"} }, `unknown scenario "redeem"`},
		{"twice", func(c *Config) { c.Scenarios = []string{"healthz", "healthz"} }, `scenario "healthz" is given twice`},
		{"no clients", func(c *Config) { c.Clients = nil }, "no client count given"},
		{"zero clients", func(c *Config) { c.Clients = []int{0} }, "client count 0"},
		{"duration", func(c *Config) { c.Duration = 0 }, "--duration must be positive"},
		{"warmup", func(c *Config) { c.Warmup = -time.Second }, "--warmup must not be negative"},
		{"negative rounds", func(c *Config) { c.Rounds = -1 }, "--rounds must be between 1 and 100"},
		{"too many rounds", func(c *Config) { c.Rounds = 101 }, "--rounds must be between 1 and 100"},
		{"short rounds", func(c *Config) { c.Rounds = 3 }, "--duration 1s over 3 rounds leaves less than 500ms a round"},
		{"limit", func(c *Config) { c.Limit = -1 }, "--limit must be between 1 and"},
		{"codes", func(c *Config) { c.Codes = 1 }, "--codes must be between 2 and 10000000"},
		{"many codes", func(c *Config) { c.ManyCodes = 0 }, "--many-codes must be between 1 and 1000000"},
		{"url", func(c *Config) { c.BaseURL = "127.0.0.1:8080" }, "is not an http:// or https:// URL"},
		{"key", func(c *Config) { c.AdminKey = "" }, "no admin key"},
		{"baseline without database", func(c *Config) { c.DatabaseURL = "" }, "baseline runs on the server's database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Validate = %v, want an error with %q", err, tt.message)
			}
		})
	}
	// Sizes of scenarios that do not run are not checked.
	c := valid()
	c.Scenarios, c.Codes, c.ManyCodes = []string{ScenarioHealthz}, 0, 0
	if err := c.Validate(); err != nil {
		t.Errorf("Validate of healthz alone with no code counts: %v", err)
	}
}
