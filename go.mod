module sendbox

go 1.26.0
