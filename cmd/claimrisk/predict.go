package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/claimrisk/claimrisk/shared/config"
	"github.com/claimrisk/claimrisk/shared/predictapi"
	"github.com/claimrisk/claimrisk/shared/schema"
	"github.com/claimrisk/claimrisk/shared/tooling/localrun"
)

// DefaultPredictURL is where `claimrisk up` serves the predict function.
const DefaultPredictURL = "http://127.0.0.1:8703"

// defaultURL is a running `claimrisk up`'s component URL, else fallback.
func defaultURL(component, fallback string) string {
	if state, err := localrun.ReadState(config.Home()); err == nil && state[component] != "" {
		return state[component]
	}
	return fallback
}

// exampleRecords are three quotes a participant can send without a file.
var exampleRecords = predictapi.ExampleRecords

// readRecords reads a JSON array of records, {"records": [...]}, or one
// record per line.
func readRecords(r io.Reader) ([]schema.PolicyRecord, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("no records: the input is empty")
	}
	var body []byte
	switch data[0] {
	case '[':
		body = append(append([]byte(`{"records":`), data...), '}')
	case '{':
		if bytes.HasPrefix(bytes.TrimLeft(data[1:], " \t\r\n"), []byte(`"records"`)) {
			body = data
		} else { // one JSON object per line
			var items []json.RawMessage
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
					items = append(items, append([]byte{}, line...))
				}
			}
			body, _ = json.Marshal(map[string]any{"records": items})
		}
	default:
		return nil, fmt.Errorf("the input is not JSON records (an array, {\"records\": [...]}, or one object per line)")
	}
	recs, err := predictapi.DecodePredict(body, predictapi.Limits{MaxRecords: 1 << 30})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

func (a *app) predictCmd() *cobra.Command {
	var url, file, token, host string
	var asJSON, example bool
	var batch int
	c := &cobra.Command{
		Use:   "predict",
		Short: "Send policy records to the prediction API and print the answers",
		Long: `Predict sends policy records to POST /v1/predict of the prediction API and
prints each policy's claim probability and risk band. Records come from
--file (or standard input): a JSON array, {"records": [...]}, or one JSON
object per line. Records are checked here with the same rules as the API
and sent in batches of --batch.`,
		Example: "  claimrisk predict --example\n  claimrisk predict --file quotes.json --json\n  claimrisk predict --url http://127.0.0.1:8703 < quotes.jsonl",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var records []schema.PolicyRecord
			switch {
			case example:
				records = exampleRecords
			case file != "":
				f, err := os.Open(file)
				if err != nil {
					return fmt.Errorf("open records: %w", err)
				}
				defer f.Close()
				if records, err = readRecords(f); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			default:
				if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
					return usagef("give --file FILE, pipe records on standard input, or try --example")
				}
				var err error
				if records, err = readRecords(os.Stdin); err != nil {
					return fmt.Errorf("standard input: %w", err)
				}
			}
			if batch < 1 {
				return usagef("--batch must be at least 1")
			}
			client := predictapi.NewClient(url, token)
			client.Host = host
			var answers []predictapi.PredictResponse
			for i := 0; i < len(records); i += batch {
				resp, err := client.Predict(cmd.Context(), records[i:min(i+batch, len(records))])
				if err != nil {
					return fmt.Errorf("%s/v1/predict: %w", url, err)
				}
				answers = append(answers, resp)
			}
			if asJSON {
				return writeJSON(a.stdout, answers)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "POLICY\tCLAIM PROBABILITY\tRISK BAND\tMODEL\tREQUEST")
			for _, resp := range answers {
				for _, p := range resp.Predictions {
					fmt.Fprintf(tw, "%s\t%.4f\t%s\t%s v%d\t%s\n", p.PolicyID, p.ClaimProbability, p.RiskBand, resp.Model.Name, resp.Model.Version, resp.RequestID)
				}
			}
			return tw.Flush()
		},
	}
	f := c.Flags()
	f.StringVar(&url, "url", defaultURL("predict", DefaultPredictURL), "base URL of the prediction API")
	f.StringVar(&file, "file", "", "records to send (JSON); standard input when omitted")
	f.StringVar(&token, "token", os.Getenv("CLAIMRISK_API_TOKEN"), "bearer token, when the API requires one (env CLAIMRISK_API_TOKEN)")
	f.StringVar(&host, "host", "", "Host header to send, for a Knative ingress: --url http://127.0.0.1:31080 --host predict.claimrisk.127.0.0.1.sslip.io")
	f.BoolVar(&example, "example", false, "send three example quotes")
	f.BoolVar(&asJSON, "json", false, "print the API's JSON answers")
	f.IntVar(&batch, "batch", 1000, "records per request")
	return c
}
