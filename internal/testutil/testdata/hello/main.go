// Command hello is a tiny program that BuildBinary's test builds.
package main

import "fmt"

func main() { fmt.Println("hello from a built binary") }
