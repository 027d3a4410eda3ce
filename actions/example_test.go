package actions_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/actions"
)

func ExampleSender_Send() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println("server got:", r.Method, r.URL.Path, string(body))
	}))
	defer srv.Close()

	t := actions.Target{
		Name: "Door bell", Enabled: true, Method: "POST", URL: srv.URL + "/hook",
		Body: actions.Body{Kind: actions.BodyJSON, JSON: `{"event":"<ETYPE>","id":"<EID>"}`},
	}
	if err := t.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	s := actions.NewSender(nil)
	defer s.Close()
	r := s.Send(context.Background(), t, actions.Tags{EID: "18eaa1", EType: "pressed", Time: time.Now()})
	fmt.Println("ok:", r.OK, "code:", r.Code)
	// Output:
	// server got: POST /hook {"event":"pressed","id":"18eaa1"}
	// ok: true code: 200
}

func ExampleTarget_Validate() {
	t := actions.Target{Name: "Door/bell", Method: "GET", URL: "ftp://example.com/"}
	err := t.Validate()
	for _, line := range strings.Split(err.Error(), "; ") {
		fmt.Println(line)
	}
	// Output:
	// name: use only letters, digits, -, ' and spaces
	// url: must start with http:// or https://
}

func ExampleRedactURL() {
	fmt.Println(actions.RedactURL("https://bob:hunter2@example.com/hook?token=abc&room=5"))
	// Output: https://REDACTED@example.com/hook?room=5&token=REDACTED
}
