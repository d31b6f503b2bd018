package plan

// Describe is a stub until package plan's describe.go is merged (the lead
// deletes this file then): the op's code and path.
func (o *Op) Describe() string { return o.Code.String() + " " + o.Path }
