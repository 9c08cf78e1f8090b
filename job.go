package promokit

import "time"

// JobState is where a background job stands.
type JobState string

// Job states.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// Job kinds.
const (
	JobGenerateCodes = "generate_codes"
)

// Job is a background job, such as the generation of a promotion's codes.
// Its progress is committed with each batch of work, so a job resumes
// where it stopped after a crash and never does a batch twice.
type Job struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	StoreID     string     `json:"store_id"`
	PromotionID string     `json:"promotion_id"`
	Spec        CodeSpec   `json:"spec"`
	Total       int64      `json:"total"`
	Done        int64      `json:"done"`
	State       JobState   `json:"state"`
	Error       string     `json:"error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	LeaseOwner  string     `json:"-"`
	LeaseUntil  *time.Time `json:"-"`
}
