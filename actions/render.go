package actions

import (
	"net/url"
)

// renderURL makes t's URL with tags substituted (escaped for where they
// land) and t.Query added to its query.
func renderURL(t Target, vals map[string]string) (string, error) {
	u := expand(t.URL, vals, url.QueryEscape)
	if len(t.Query) == 0 {
		return u, nil
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	q := parsed.Query()
	for _, kv := range t.Query {
		q.Add(kv.Key, expand(kv.Value, vals, func(v string) string { return v }))
	}
	parsed.RawQuery = q.Encode()
	return parsed.String(), nil
}
