package mlflow

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// ModelVersion is a version in MLflow's model registry.
type ModelVersion struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Source      string   `json:"source"`
	RunID       string   `json:"run_id"`
	Status      string   `json:"status"`
	Description string   `json:"description"`
	Tags        []Tag    `json:"tags"`
	Aliases     []string `json:"aliases"`
}

// EnsureRegisteredModel creates the registered model unless it exists.
func (c *Client) EnsureRegisteredModel(ctx context.Context, name, description string, tags []Tag) error {
	in := map[string]any{"name": name, "description": description, "tags": tags}
	err := c.call(ctx, http.MethodPost, "registered-models/create", nil, in, nil)
	if HasCode(err, CodeAlreadyExists) {
		return nil
	}
	return err
}

// CreateModelVersion registers source as a new version of name.
func (c *Client) CreateModelVersion(ctx context.Context, name, source, runID, description string, tags []Tag) (ModelVersion, error) {
	in := map[string]any{"name": name, "source": source, "run_id": runID, "description": description, "tags": tags}
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	err := c.call(ctx, http.MethodPost, "model-versions/create", nil, in, &out)
	return out.ModelVersion, err
}

// SearchModelVersions lists the versions of a registered model.
func (c *Client) SearchModelVersions(ctx context.Context, name string) ([]ModelVersion, error) {
	var all []ModelVersion
	token := ""
	for {
		q := url.Values{"filter": {"name='" + name + "'"}, "max_results": {"200"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var out struct {
			ModelVersions []ModelVersion `json:"model_versions"`
			NextPageToken string         `json:"next_page_token"`
		}
		if err := c.call(ctx, http.MethodGet, "model-versions/search", q, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.ModelVersions...)
		if out.NextPageToken == "" {
			return all, nil
		}
		token = out.NextPageToken
	}
}

// SetModelVersionTag sets one tag on a version. MLflow looks the tag up
// and inserts it if missing, without a lock: two writers mirroring the
// same version at once (the register function and a person's 'claimrisk
// registry promote') can both insert, and the second gets a database
// uniqueness error. The tag exists by then, so once more updates it.
func (c *Client) SetModelVersionTag(ctx context.Context, name, version, key, value string) error {
	in := map[string]string{"name": name, "version": version, "key": key, "value": value}
	err := c.call(ctx, http.MethodPost, "model-versions/set-tag", nil, in, nil)
	if isUniqueViolation(err) {
		err = c.call(ctx, http.MethodPost, "model-versions/set-tag", nil, in, nil)
	}
	return err
}

// SetAlias points alias at a version.
func (c *Client) SetAlias(ctx context.Context, name, alias string, version int) error {
	in := map[string]string{"name": name, "alias": alias, "version": strconv.Itoa(version)}
	return c.call(ctx, http.MethodPost, "registered-models/alias", nil, in, nil)
}

// DeleteAlias removes an alias.
func (c *Client) DeleteAlias(ctx context.Context, name, alias string) error {
	in := map[string]string{"name": name, "alias": alias}
	return c.call(ctx, http.MethodDelete, "registered-models/alias", nil, in, nil)
}

// GetByAlias returns the version an alias points at.
func (c *Client) GetByAlias(ctx context.Context, name, alias string) (ModelVersion, error) {
	var out struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	err := c.call(ctx, http.MethodGet, "registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, nil, &out)
	return out.ModelVersion, err
}

// Alias is a registered model's alias.
type Alias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is a model in MLflow's registry.
type RegisteredModel struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Aliases     []Alias `json:"aliases"`
}

// GetRegisteredModel returns a registered model with its aliases.
func (c *Client) GetRegisteredModel(ctx context.Context, name string) (RegisteredModel, error) {
	var out struct {
		RegisteredModel RegisteredModel `json:"registered_model"`
	}
	err := c.call(ctx, http.MethodGet, "registered-models/get", url.Values{"name": {name}}, nil, &out)
	return out.RegisteredModel, err
}
