package http

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/csv"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// codesPage is the data of the list of a promotion's codes.
type codesPage struct {
	P     *promokit.Promotion
	Codes []*promokit.Code
	Pager pager
	// Loc is the marketplace's time zone, which the page shows times in.
	Loc *time.Location
}

// handleConsoleCodeList lists a promotion's codes in the order they were
// made, a page at a time by the API's cursor.
func (s *Server) handleConsoleCodeList(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := s.svc.GetPromotion(r.Context(), id)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	pg, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	codes, err := s.svc.ListCodes(r.Context(), storage.CodeFilter{PromotionID: id, Page: pg})
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "codes", &page{Title: "Codes of " + p.Name,
		Data: codesPage{P: p, Codes: codes, Pager: pagerOf(r, codes, func(v *promokit.Code) string { return v.Code }), Loc: st.Location()}})
}

// handleConsoleCodeGenerate starts the generation of codes (a job) and
// opens the job's page, which shows its progress.
func (s *Server) handleConsoleCodeGenerate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	g := genForm{Count: r.PostFormValue("count"), Length: r.PostFormValue("length"), Prefix: r.PostFormValue("prefix")}
	var v promokit.Validation
	spec := promokit.CodeSpec{Count: formInt(r, &v, "count"), Length: int(formInt(r, &v, "length")), Prefix: g.Prefix}
	err := v.Err()
	var j *promokit.Job
	if err == nil {
		j, err = s.svc.CreateCodeJob(r.Context(), id, spec)
	}
	if err != nil {
		pg, perr := s.promotionPage(r, id)
		if perr != nil {
			s.consoleFail(w, r, perr)
			return
		}
		pg.Data.(*promotionPage).Gen = g
		s.failForm(w, r, err, "promotion", pg)
		return
	}
	http.Redirect(w, r, "/console/jobs/"+j.ID, http.StatusSeeOther)
}

// jobPage is the data of a job's page.
type jobPage struct {
	Job     *promokit.Job
	Percent int64
	Running bool
}

// handleConsoleJob shows a job's progress. While it runs, the page
// reloads itself without a script (a refresh in <noscript>), and the
// script moves its bar from the job's progress instead.
func (s *Server) handleConsoleJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.GetJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	d := jobPage{Job: j, Percent: jobPercent(j), Running: j.State == promokit.JobQueued || j.State == promokit.JobRunning}
	s.render(w, r, http.StatusOK, "job", &page{Title: "Generating codes", Data: d})
}

// jobPercent is how much of j is done, in whole percent.
func jobPercent(j *promokit.Job) int64 {
	if j.Total <= 0 {
		return 0
	}
	return j.Done * 100 / j.Total
}

// handleConsoleJobProgress answers a job's progress as JSON for the
// script of its page: its state, what is done of its total.
func (s *Server) handleConsoleJobProgress(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.GetJob(r.Context(), r.PathValue("id"))
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, struct {
		State promokit.JobState `json:"state"`
		Done  int64             `json:"done"`
		Total int64             `json:"total"`
	}{j.State, j.Done, j.Total})
}

// handleConsoleCodeImport imports the codes of an uploaded CSV file into a
// promotion, all or none, as the API's import does: when rows are bad the
// page lists them in a table, with what is wrong with each.
func (s *Server) handleConsoleCodeImport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := s.importUpload(w, r, id)
	if err != nil {
		pg, perr := s.promotionPage(r, id)
		if perr != nil {
			s.consoleFail(w, r, perr)
			return
		}
		if !formError(err) {
			s.consoleFail(w, r, err)
			return
		}
		var e *promokit.Error
		if errors.As(err, &e) && len(e.Fields) > 0 && strings.HasPrefix(e.Fields[0].Field, "row ") {
			// The rows go in the table, not in the summary.
			pg.Data.(*promotionPage).ImportErr = e.Fields
			err = &promokit.Error{Code: e.Code, Message: e.Message}
		}
		s.failForm(w, r, err, "promotion", pg)
		return
	}
	redirectNotice(w, r, "/console/promotions/"+id, "imported")
}

// importUpload spools the file of the form's "file" part and imports it.
func (s *Server) importUpload(w http.ResponseWriter, r *http.Request, id string) (int64, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return 0, invalidField("file", "required", "choose a CSV file to import")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return 0, invalidField("file", "required", "choose a CSV file to import")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return 0, invalidField("file", "required", "choose a CSV file to import")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return 0, promokit.Errorf(promokit.ETooLarge, "the file may have at most %d bytes", s.importLimit)
			}
			return 0, malformed("", "", "the form could not be read")
		}
		if part.FormName() != "file" {
			continue
		}
		f, err := spool(w, &http.Request{Body: io.NopCloser(part)}, s.importLimit, nil)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		dec, err := csv.NewCodeDecoder(f)
		if err != nil {
			return 0, rowError(err)
		}
		dec.MaxRows = engine.MaxImportRows
		dec.AllowDuplicates = true
		n, err := s.svc.ImportCodes(r.Context(), id, codeSource{dec})
		return n, sortRows(err)
	}
}

// handleConsoleCodeExport streams a promotion's codes as a CSV download,
// as the API's export does.
func (s *Server) handleConsoleCodeExport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.svc.GetPromotion(r.Context(), id); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.exportCodes(w, r, storage.CodeFilter{PromotionID: id}, "promotion-"+id+"-codes.csv")
}

// codePage is the data of a code's page.
type codePage struct {
	Code     *promokit.Code
	P        *promokit.Promotion
	Uses     []*engine.CodeUse
	Pager    pager
	Currency string
	// Loc is the marketplace's time zone, which the page shows times in.
	Loc *time.Location
}

// handleConsoleCodeFind opens the page of the code of ?code, or shows the
// form that asks for one.
func (s *Server) handleConsoleCodeFind(w http.ResponseWriter, r *http.Request) {
	if c := strings.TrimSpace(r.URL.Query().Get("code")); c != "" {
		http.Redirect(w, r, "/console/codes/"+url.PathEscape(promokit.NormalizeCode(c)), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "code_find", &page{Title: "Find a code"})
}

// handleConsoleCodeGet shows a code of the store: its limits and state,
// and its uses a page at a time. A look-up counts as the API's does: a
// code that is not the store's, or none, is a failed look-up of the key
// and the address, and past the limit the page is refused for the minute.
func (s *Server) handleConsoleCodeGet(w http.ResponseWriter, r *http.Request) {
	subj := s.lookupSubjects(r, promokit.Identity{}, "")
	refusal, err := s.svc.CheckLookups(r.Context(), subj, s.lookupLimits)
	if err == nil && refusal != nil {
		err = promokit.Errorf(promokit.ETooManyFailures, "too many failed code look-ups: try again when the minute is over")
	}
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	value := r.PathValue("code")
	c, err := s.svc.GetCode(r.Context(), value)
	if promokit.ErrorCode(err) == promokit.ENotFound {
		refusal, ferr := s.svc.FailLookups(r.Context(), subj, 1, s.lookupLimits)
		if ferr == nil && refusal != nil {
			ferr = promokit.Errorf(promokit.ETooManyFailures, "too many failed code look-ups: try again when the minute is over")
		}
		if ferr != nil {
			err = ferr
		}
	}
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	pg, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	uses, err := s.svc.ListCodeRedemptions(r.Context(), c.Code, pg)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	p, err := s.svc.GetPromotion(r.Context(), c.PromotionID)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	st, err := s.sellerSettings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "code", &page{Title: "Code " + c.Code,
		Data: codePage{Code: c, P: p, Uses: uses, Pager: pagerOf(r, uses, func(v *engine.CodeUse) string { return strconv.FormatInt(v.ID, 10) }), Currency: p.Currency, Loc: st.Location()}})
}
