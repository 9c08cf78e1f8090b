package promokit_test

import (
	"fmt"

	"github.com/promokit/promokit"
)

// A commission of 5% on $100.00 (DOMAIN.md A4), and 10% of $200.00 (I3):
// rates are basis points and amounts minor units.
func ExampleApplyRate() {
	fmt.Println(promokit.Money{Minor: promokit.ApplyRate(10000, 500), Currency: "USD"}.Format())
	fmt.Println(promokit.Money{Minor: promokit.ApplyRate(20000, 1000), Currency: "USD"}.Format())
	// Half a cent rounds away from zero.
	fmt.Println(promokit.ApplyRate(1005, 1000), promokit.ApplyRate(-1005, 1000))
	// Output:
	// 5.00 USD
	// 20.00 USD
	// 101 -101
}

// A $10.00 discount spread over three lines of $10, $20 and $30 by the
// largest remainder: the parts add up to the discount to the cent.
func ExampleAllocate() {
	fmt.Println(promokit.Allocate(1000, []int64{1000, 2000, 3000}))
	// Output: [167 333 500]
}

// A generation spec is refused before anything is written when its space
// is too small for the codes asked for.
func ExampleCodeSpec_CheckSpace() {
	spec := promokit.CodeSpec{Count: 1_000_000, Length: 6}
	spec.Normalize()
	err := spec.CheckSpace(spec.Count, 100_000)
	fmt.Println(promokit.ErrorCode(err))
	spec.Length = 10
	fmt.Println(spec.CheckSpace(spec.Count, 100_000))
	// Output:
	// code_space_too_small
	// <nil>
}
