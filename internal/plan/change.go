package plan

import "fmt"

// Action is what a change does to its resource.
type Action string

// Actions of a change.
const (
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionDelete  Action = "delete"
	ActionReplace Action = "replace" // delete then create (an API key whose value changed)
)

// Kind is the kind of resource a change is about.
type Kind string

// Kinds of resource a plan manages, one file each (stage.go, usageplan.go,
// apikey.go, plankey.go) with its diff and its apply step.
const (
	KindStage     Kind = "stage"
	KindUsagePlan Kind = "usage_plan"
	KindAPIKey    Kind = "api_key"
	KindPlanKey   Kind = "plan_key" // an API key's membership of a usage plan
)

// Label is the kind as people read it.
func (k Kind) Label() string {
	switch k {
	case KindUsagePlan:
		return "usage plan"
	case KindAPIKey:
		return "API key"
	case KindPlanKey:
		return "plan key"
	}
	return string(k)
}

// Changes is the diff between a plan and live state: the JSON model of
// `apictl apply-plan -o json` and the input of Apply.
type Changes struct {
	APIID   string `json:"api_id"`
	APIName string `json:"api_name"`
	APIType string `json:"api_type"`
	File    string `json:"file,omitempty"`
	// Stages, UsagePlans, APIKeys and PlanKeys list pending changes; empty
	// lists mean the live state matches the plan.
	Stages     []*Change `json:"stages"`
	UsagePlans []*Change `json:"usage_plans"`
	APIKeys    []*Change `json:"api_keys"`
	PlanKeys   []*Change `json:"plan_keys"`
	// Notes say what apictl sees but leaves alone.
	Notes   []string `json:"notes,omitempty"`
	Summary Summary  `json:"summary"`
	// Unpruned are the managed usage plans and keys of this API absent
	// from the plan, left alone because DiffOptions.Prune is off (RemedyPrune
	// deletes them). The caller words them: Notes leave them out.
	Unpruned []Resource `json:"-"`

	region string
}

// Summary counts changes by action.
type Summary struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
}

// Empty reports whether there is nothing to do.
func (c *Changes) Empty() bool {
	return len(c.Stages)+len(c.UsagePlans)+len(c.APIKeys)+len(c.PlanKeys) == 0
}

// list returns the changes of one kind.
func (c *Changes) list(k Kind) []*Change {
	switch k {
	case KindStage:
		return c.Stages
	case KindUsagePlan:
		return c.UsagePlans
	case KindAPIKey:
		return c.APIKeys
	case KindPlanKey:
		return c.PlanKeys
	}
	return nil
}

// Change is one resource to create, update, delete or replace. It is plain
// data: the SDK inputs are built from it only when it is applied.
type Change struct {
	Action Action `json:"action"`
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	// Plan and Key name the two sides of a plan_key change.
	Plan   string   `json:"plan,omitempty"`
	Key    string   `json:"key,omitempty"`
	Reason string   `json:"reason,omitempty"`
	Fields []*Field `json:"fields,omitempty"`
	// Apply is what Apply needs beyond what the change shows; saved plans
	// carry it, the change's JSON view (apply-plan -o json) does not.
	Apply ApplyData `json:"-"`
}

// ApplyData is the part of a Change only Apply reads: the patch operations,
// the resource to create and the live ids it works on. It never holds an
// API key value.
type ApplyData struct {
	Ops        []PatchOp        `json:"ops,omitempty"`
	CreatePlan *NewUsagePlan    `json:"create_plan,omitempty"`
	CreateKey  *NewAPIKey       `json:"create_key,omitempty"`
	FromEnv    string           `json:"from_env,omitempty"` // the variable holding the new key's value
	Detach     []string         `json:"detach,omitempty"`   // "apiId:stage" to detach before deleting a plan
	PlanID     string           `json:"plan_id,omitempty"`
	KeyID      string           `json:"key_id,omitempty"`
	HTTPUpdate *HTTPStageUpdate `json:"http_update,omitempty"`
	HTTPDelete []string         `json:"http_delete,omitempty"` // HTTP route keys whose settings are deleted
}

// PatchOp is one JSON-Patch-like operation of an API Gateway update, as
// plain data.
type PatchOp struct {
	Op    string  `json:"op"`
	Path  string  `json:"path"`
	Value *string `json:"value,omitempty"`
	From  *string `json:"from,omitempty"`
}

// Operations of a PatchOp (API Gateway's PatchOperation op).
const (
	PatchAdd     = "add"
	PatchRemove  = "remove"
	PatchReplace = "replace"
)

func replaceOp(path, value string) PatchOp {
	return PatchOp{Op: PatchReplace, Path: path, Value: &value}
}
func removeOp(path string) PatchOp     { return PatchOp{Op: PatchRemove, Path: path} }
func addOp(path, value string) PatchOp { return PatchOp{Op: PatchAdd, Path: path, Value: &value} }

// detachOp detaches stage ref ("apiId:stage") from a usage plan.
func detachOp(ref string) PatchOp { return PatchOp{Op: PatchRemove, Path: "/apiStages", Value: &ref} }

// Resource names a live resource.
type Resource struct {
	Kind Kind
	Name string
	ID   string
}

// Remedy is a way out of a problem through one of the caller's options.
// The library names it and leaves it out of its messages; the CLI words it
// with its flag.
type Remedy string

const (
	// RemedyPrune is DiffOptions.Prune: delete the managed usage plans and
	// keys of the API that the plan does not list.
	RemedyPrune Remedy = "prune"
	// RemedyTarget is another region or endpoint for the Client.
	RemedyTarget Remedy = "target"
)

// Field is one changed attribute. Old is absent on create, New on delete.
type Field struct {
	Path      string  `json:"path"`
	Old       *string `json:"old,omitempty"`
	New       *string `json:"new,omitempty"`
	Sensitive bool    `json:"sensitive,omitempty"`
}

func (c *Changes) count() {
	c.Summary = Summary{}
	for _, list := range [][]*Change{c.Stages, c.UsagePlans, c.APIKeys, c.PlanKeys} {
		for _, x := range list {
			switch x.Action {
			case ActionCreate:
				c.Summary.Create++
			case ActionUpdate:
				c.Summary.Update++
			case ActionDelete:
				c.Summary.Delete++
			case ActionReplace:
				c.Summary.Create++
				c.Summary.Delete++
			}
		}
	}
}

var pastTense = map[Action]string{ActionCreate: "created", ActionUpdate: "updated", ActionDelete: "deleted", ActionReplace: "replaced"}

// describe says what applying c did.
func describe(c *Change) string {
	if c.Kind == KindPlanKey {
		if c.Action == ActionCreate {
			return fmt.Sprintf("added key %q to usage plan %q", c.Key, c.Plan)
		}
		return fmt.Sprintf("removed key %q from usage plan %q", c.Key, c.Plan)
	}
	return fmt.Sprintf("%s %s %q", pastTense[c.Action], c.Kind.Label(), c.Name)
}
