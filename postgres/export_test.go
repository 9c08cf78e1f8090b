package postgres

// The qualify queries, for their plan test.
const (
	AutomaticPromotionsSQL = automaticPromotionsSQL
	CustomerCodesSQL       = customerCodesSQL
)
