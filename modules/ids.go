package modules

import "github.com/google/uuid"

// NewID returns a new opaque id: a time-ordered UUID (v7), so ids sort roughly by creation.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }
