package csv_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/csv"
)

func ExampleCodeEncoder() {
	limit := int64(100)
	p := &promokit.Promotion{
		ID: "prm_1", Name: "Spring sale", Description: "10% off everything, for spring", Channel: promokit.ChannelStore, Type: promokit.PercentOff,
		PercentOff: 1000, Currency: "EUR", StartsAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	var out strings.Builder // an http.ResponseWriter or a file in real use
	e := csv.NewCodeEncoder(&out)
	for _, code := range []string{"SPRING-10", "-SPRING"} {
		c := &promokit.Code{Code: code, PromotionID: p.ID, StoreID: "sto_1", Active: true, UsageLimit: &limit}
		if err := e.Encode(c, p); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := e.Flush(); err != nil {
		fmt.Println(err)
		return
	}
	// Lines end in CRLF; examples compare output with LF line ends.
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// code,promotion_id,promotion_name,store_id,active,usage_limit,per_customer_limit,customer_id,partner_id,expires_at,uses,created_at,type,amount_off,percent_off_bp,currency,min_order_amount,product_ids,starts_at,ends_at,total_uses,total_discount,per_customer,channel,exclusive,priority,coupon_per_person,coupon_quantity,coupon_valid_days,promotion_description
	// SPRING-10,prm_1,Spring sale,sto_1,true,100,,,,,0,,percent_off,0,1000,EUR,0,,2025-03-01T00:00:00Z,,,,,store,false,0,,,,"10% off everything, for spring"
	// '-SPRING,prm_1,Spring sale,sto_1,true,100,,,,,0,,percent_off,0,1000,EUR,0,,2025-03-01T00:00:00Z,,,,,store,false,0,,,,"10% off everything, for spring"
}

func ExampleCodeDecoder() {
	file := "Code,Usage_Limit,Active\n" +
		"welcome-5,1,yes\n" +
		"WELCOME-5,1,yes\n" +
		"VIP,0,no\n" +
		"LOYAL-20,,false\n"
	d, err := csv.NewCodeDecoder(strings.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	d.MaxRows = 10_000
	var bad []*csv.RowError
	for {
		row, c, err := d.Next()
		if err == io.EOF {
			break
		}
		var re *csv.RowError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		if err != nil {
			fmt.Println(err) // the reader failed
			return
		}
		fmt.Printf("row %d: %s (active %t)\n", row, c.Code, c.Active)
	}
	for _, re := range bad {
		fmt.Printf("row %d: %s %s: %s\n", re.Row, re.Field, re.Code, re.Message)
	}
	// Output:
	// row 2: WELCOME-5 (active true)
	// row 5: LOYAL-20 (active false)
	// row 3: code duplicate_in_file: code WELCOME-5 is already on row 2
	// row 4: usage_limit out_of_range: usage_limit must be between 1 and 10^12, or null
}
