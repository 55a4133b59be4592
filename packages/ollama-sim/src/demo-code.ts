/**
 * The demo model's code answers: ready-made, correct snippets for common small tasks in six languages.
 * Each snippet runs as written (demo-code.test.ts runs the Python, TypeScript and JavaScript ones; the Go,
 * Rust and Java ones were compiled and run once by hand), and `output` is exactly what it prints when run in
 * a directory holding `notes.txt` = "first\nsecond\n".
 */

export type LanguageId = "python" | "typescript" | "javascript" | "go" | "rust" | "java";

export interface Language {
  id: LanguageId;
  name: string;
  /** The code fence's info string (what the web UI shows and highlights). */
  fence: string;
  match: RegExp;
}

export const languages: Language[] = [
  { id: "typescript", name: "TypeScript", fence: "ts", match: /\b(typescript|ts|deno)\b/i },
  { id: "javascript", name: "JavaScript", fence: "js", match: /\b(javascript|js|node(?:\.?js)?)\b/i },
  { id: "python", name: "Python", fence: "python", match: /\b(python3?|py)\b/i },
  { id: "go", name: "Go", fence: "go", match: /\b(golang|in go|go (?:function|program|code|snippet|version))\b/i },
  { id: "rust", name: "Rust", fence: "rust", match: /\brust\b/i },
  { id: "java", name: "Java", fence: "java", match: /\bjava\b/i },
];

/** Languages people ask for that the demo has no snippets in: named in the answer instead of ignored. */
const otherLanguages: Array<[RegExp, string]> = [
  [/\bc\+\+|\bcpp\b/i, "C++"],
  [/\bc#|\bcsharp\b/i, "C#"],
  [/\bin c\b|\bc (?:function|program|code)\b/i, "C"],
  [/\bruby\b/i, "Ruby"],
  [/\bphp\b/i, "PHP"],
  [/\bkotlin\b/i, "Kotlin"],
  [/\bswift\b/i, "Swift"],
  [/\bscala\b/i, "Scala"],
  [/\bhaskell\b/i, "Haskell"],
  [/\belixir\b/i, "Elixir"],
  [/\blua\b/i, "Lua"],
  [/\bperl\b/i, "Perl"],
  [/\b(bash|shell|zsh)\b/i, "shell"],
];

export interface Snippet {
  code: string;
  /** Exactly what it prints (absent for snippets that need the network). */
  output?: string;
  /** One or two sentences after the code: why it is written this way. */
  note: string;
  /** Said before the code (dependencies to add). */
  setup?: string;
}

export interface CodeTask {
  id: string;
  /** As listed among the tasks the demo knows: "reversing a string". */
  title: string;
  match: RegExp;
  /** "reverses a string": completes "Here's a Python function that …" style intros. */
  does: string;
  /** Thinking line: what the task needs. */
  approach: string;
  snippets: Record<LanguageId, Snippet>;
}

/** Template-literal text as code: no leading newline, no trailing blank line; Go's 4-space indents → tabs. */
function code(strings: TemplateStringsArray, ...values: string[]): string {
  return String.raw(strings, ...values).replace(/^\n/, "").replace(/\s+$/, "");
}
function goCode(strings: TemplateStringsArray, ...values: string[]): string {
  return code(strings, ...values).replace(/^( {4})+/gm, (indent) => "\t".repeat(indent.length / 4));
}
/** For snippets that contain JavaScript template literals. */
const tick = "`";
const dollar = "$";

export const codeTasks: CodeTask[] = [
  {
    id: "reverse-string",
    title: "reversing a string",
    match: /\brevers(?:e|es|ed|ing)\b.*\b(?:strings?|text|words?)\b|\b(?:strings?|text|words?)\b.*\brevers(?:e|ed|al|ing)\b/i,
    does: "reverses a string",
    approach: "Reversing should work on characters, not bytes, so non-ASCII text survives.",
    snippets: {
      python: {
        code: code`
def reverse_string(text: str) -> str:
    return text[::-1]


print(reverse_string("hello"))`,
        output: "olleh",
        note: "The slice `[::-1]` walks the string from the end to the start with a step of -1.",
      },
      typescript: {
        code: code`
function reverseString(text: string): string {
  // Array.from splits by code point, so emoji and other astral characters stay whole
  return Array.from(text).reverse().join("");
}

console.log(reverseString("hello"));`,
        output: "olleh",
        note: "`text.split(\"\")` would split surrogate pairs apart; `Array.from` iterates by code point.",
      },
      javascript: {
        code: code`
function reverseString(text) {
  // Array.from splits by code point, so emoji and other astral characters stay whole
  return Array.from(text).reverse().join("");
}

console.log(reverseString("hello"));`,
        output: "olleh",
        note: "`text.split(\"\")` would split surrogate pairs apart; `Array.from` iterates by code point.",
      },
      go: {
        code: goCode`
package main

import "fmt"

func reverseString(s string) string {
    runes := []rune(s)
    for i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {
        runes[i], runes[j] = runes[j], runes[i]
    }
    return string(runes)
}

func main() {
    fmt.Println(reverseString("hello"))
}`,
        output: "olleh",
        note: "Converting to `[]rune` first swaps characters rather than bytes, so UTF-8 text stays valid.",
      },
      rust: {
        code: code`
fn reverse_string(text: &str) -> String {
    text.chars().rev().collect()
}

fn main() {
    println!("{}", reverse_string("hello"));
}`,
        output: "olleh",
        note: "`chars()` yields Unicode scalar values, so the result is always valid UTF-8.",
      },
      java: {
        code: code`
public class Main {
    static String reverseString(String text) {
        return new StringBuilder(text).reverse().toString();
    }

    public static void main(String[] args) {
        System.out.println(reverseString("hello"));
    }
}`,
        output: "olleh",
        note: "`StringBuilder.reverse()` keeps surrogate pairs together, so emoji survive the reversal.",
      },
    },
  },
  {
    id: "fizzbuzz",
    title: "FizzBuzz",
    match: /\bfizz\s*buzz\b/i,
    does: "plays FizzBuzz from 1 to 15",
    approach: "FizzBuzz: check divisibility by 15 first, then 3, then 5.",
    snippets: {
      python: {
        code: code`
def fizzbuzz(n: int) -> list[str]:
    words = []
    for i in range(1, n + 1):
        if i % 15 == 0:
            words.append("FizzBuzz")
        elif i % 3 == 0:
            words.append("Fizz")
        elif i % 5 == 0:
            words.append("Buzz")
        else:
            words.append(str(i))
    return words


print(" ".join(fizzbuzz(15)))`,
        output: "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz",
        note: "Testing 15 first matters: a multiple of 15 is also a multiple of 3 and of 5.",
      },
      typescript: {
        code: code`
function fizzbuzz(n: number): string[] {
  const words: string[] = [];
  for (let i = 1; i <= n; i++) {
    if (i % 15 === 0) words.push("FizzBuzz");
    else if (i % 3 === 0) words.push("Fizz");
    else if (i % 5 === 0) words.push("Buzz");
    else words.push(String(i));
  }
  return words;
}

console.log(fizzbuzz(15).join(" "));`,
        output: "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz",
        note: "Testing 15 first matters: a multiple of 15 is also a multiple of 3 and of 5.",
      },
      javascript: {
        code: code`
function fizzbuzz(n) {
  const words = [];
  for (let i = 1; i <= n; i++) {
    if (i % 15 === 0) words.push("FizzBuzz");
    else if (i % 3 === 0) words.push("Fizz");
    else if (i % 5 === 0) words.push("Buzz");
    else words.push(String(i));
  }
  return words;
}

console.log(fizzbuzz(15).join(" "));`,
        output: "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz",
        note: "Testing 15 first matters: a multiple of 15 is also a multiple of 3 and of 5.",
      },
      go: {
        code: goCode`
package main

import (
    "fmt"
    "strconv"
    "strings"
)

func fizzbuzz(n int) []string {
    words := make([]string, 0, n)
    for i := 1; i <= n; i++ {
        switch {
        case i%15 == 0:
            words = append(words, "FizzBuzz")
        case i%3 == 0:
            words = append(words, "Fizz")
        case i%5 == 0:
            words = append(words, "Buzz")
        default:
            words = append(words, strconv.Itoa(i))
        }
    }
    return words
}

func main() {
    fmt.Println(strings.Join(fizzbuzz(15), " "))
}`,
        output: "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz",
        note: "A `switch` with no condition takes the first true case, so 15 must come first.",
      },
      rust: {
        code: code`
fn fizzbuzz(n: u32) -> Vec<String> {
    (1..=n)
        .map(|i| match (i % 3, i % 5) {
            (0, 0) => "FizzBuzz".to_string(),
            (0, _) => "Fizz".to_string(),
            (_, 0) => "Buzz".to_string(),
            _ => i.to_string(),
        })
        .collect()
}

fn main() {
    println!("{}", fizzbuzz(15).join(" "));
}`,
        output: "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz",
        note: "Matching on both remainders at once makes the four cases explicit and the compiler checks they cover everything.",
      },
      java: {
        code: code`
import java.util.ArrayList;
import java.util.List;

public class Main {
    static List<String> fizzbuzz(int n) {
        List<String> words = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            if (i % 15 == 0) words.add("FizzBuzz");
            else if (i % 3 == 0) words.add("Fizz");
            else if (i % 5 == 0) words.add("Buzz");
            else words.add(String.valueOf(i));
        }
        return words;
    }

    public static void main(String[] args) {
        System.out.println(String.join(" ", fizzbuzz(15)));
    }
}`,
        output: "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz",
        note: "Testing 15 first matters: a multiple of 15 is also a multiple of 3 and of 5.",
      },
    },
  },
  {
    id: "fibonacci",
    title: "Fibonacci numbers",
    match: /\bfibonacci\b|\bfib\b/i,
    does: "returns the first n Fibonacci numbers",
    approach: "Fibonacci: iterate with two running values instead of the exponential naive recursion.",
    snippets: {
      python: {
        code: code`
def fibonacci(n: int) -> list[int]:
    """The first n Fibonacci numbers."""
    numbers = []
    a, b = 0, 1
    for _ in range(n):
        numbers.append(a)
        a, b = b, a + b
    return numbers


print(fibonacci(10))`,
        output: "[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]",
        note: "Iterating keeps it O(n); the textbook recursive version recomputes the same values exponentially often.",
      },
      typescript: {
        code: code`
function fibonacci(n: number): number[] {
  const numbers: number[] = [];
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) {
    numbers.push(a);
    [a, b] = [b, a + b];
  }
  return numbers;
}

console.log(fibonacci(10).join(", "));`,
        output: "0, 1, 1, 2, 3, 5, 8, 13, 21, 34",
        note: "Iterating keeps it O(n). Beyond F(78) a `number` loses precision: switch to `bigint` for longer sequences.",
      },
      javascript: {
        code: code`
function fibonacci(n) {
  const numbers = [];
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) {
    numbers.push(a);
    [a, b] = [b, a + b];
  }
  return numbers;
}

console.log(fibonacci(10).join(", "));`,
        output: "0, 1, 1, 2, 3, 5, 8, 13, 21, 34",
        note: "Iterating keeps it O(n). Beyond F(78) a plain number loses precision: use `BigInt` for longer sequences.",
      },
      go: {
        code: goCode`
package main

import "fmt"

func fibonacci(n int) []uint64 {
    numbers := make([]uint64, 0, n)
    a, b := uint64(0), uint64(1)
    for i := 0; i < n; i++ {
        numbers = append(numbers, a)
        a, b = b, a+b
    }
    return numbers
}

func main() {
    fmt.Println(fibonacci(10))
}`,
        output: "[0 1 1 2 3 5 8 13 21 34]",
        note: "`uint64` holds the first 94 Fibonacci numbers; use `math/big` beyond that.",
      },
      rust: {
        code: code`
fn fibonacci(n: usize) -> Vec<u64> {
    let mut numbers = Vec::with_capacity(n);
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        numbers.push(a);
        (a, b) = (b, a + b);
    }
    numbers
}

fn main() {
    println!("{:?}", fibonacci(10));
}`,
        output: "[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]",
        note: "The loop adds one number ahead, so for n above 92 that addition overflows `u64` (a panic in debug builds): use `u128` for longer sequences.",
      },
      java: {
        code: code`
import java.util.ArrayList;
import java.util.List;

public class Main {
    static List<Long> fibonacci(int n) {
        List<Long> numbers = new ArrayList<>();
        long a = 0, b = 1;
        for (int i = 0; i < n; i++) {
            numbers.add(a);
            long next = a + b;
            a = b;
            b = next;
        }
        return numbers;
    }

    public static void main(String[] args) {
        System.out.println(fibonacci(10));
    }
}`,
        output: "[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]",
        note: "`long` holds the first 93 Fibonacci numbers; use `BigInteger` beyond that.",
      },
    },
  },
  {
    id: "factorial",
    title: "factorials",
    match: /\bfactorials?\b/i,
    does: "computes a factorial",
    approach: "Factorial: a loop is enough; the values grow fast, so the integer type matters.",
    snippets: {
      python: {
        code: code`
def factorial(n: int) -> int:
    if n < 0:
        raise ValueError("factorial is not defined for negative numbers")
    result = 1
    for i in range(2, n + 1):
        result *= i
    return result


print(factorial(20))`,
        output: "2432902008176640000",
        note: "Python integers never overflow. The standard library has it too: `math.factorial(20)`.",
      },
      typescript: {
        code: code`
function factorial(n: number): bigint {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("factorial needs a non-negative integer");
  let result = 1n;
  for (let i = 2n; i <= BigInt(n); i++) result *= i;
  return result;
}

console.log(factorial(20).toString());`,
        output: "2432902008176640000",
        note: "`bigint` keeps it exact: 20! is already larger than `Number.MAX_SAFE_INTEGER`.",
      },
      javascript: {
        code: code`
function factorial(n) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("factorial needs a non-negative integer");
  let result = 1n;
  for (let i = 2n; i <= BigInt(n); i++) result *= i;
  return result;
}

console.log(factorial(20).toString());`,
        output: "2432902008176640000",
        note: "`BigInt` keeps it exact: 20! is already larger than `Number.MAX_SAFE_INTEGER`.",
      },
      go: {
        code: goCode`
package main

import "fmt"

// factorial fits in a uint64 up to n = 20; use math/big beyond that.
func factorial(n uint64) uint64 {
    result := uint64(1)
    for i := uint64(2); i <= n; i++ {
        result *= i
    }
    return result
}

func main() {
    fmt.Println(factorial(20))
}`,
        output: "2432902008176640000",
        note: "20! is the largest factorial a `uint64` can hold.",
      },
      rust: {
        code: code`
fn factorial(n: u64) -> u64 {
    (1..=n).product()
}

fn main() {
    println!("{}", factorial(20));
}`,
        output: "2432902008176640000",
        note: "20! is the largest factorial a `u64` can hold; use `u128` (up to 34!) or a big-integer crate beyond that.",
      },
      java: {
        code: code`
public class Main {
    static long factorial(int n) {
        if (n < 0) throw new IllegalArgumentException("factorial is not defined for negative numbers");
        long result = 1;
        for (int i = 2; i <= n; i++) result *= i;
        return result;
    }

    public static void main(String[] args) {
        System.out.println(factorial(20));
    }
}`,
        output: "2432902008176640000",
        note: "20! is the largest factorial a `long` can hold; use `BigInteger` beyond that.",
      },
    },
  },
  {
    id: "palindrome",
    title: "palindromes",
    match: /\bpalindrom/i,
    does: "checks whether a text is a palindrome",
    approach: "Palindromes: compare letters and digits only, case-insensitively.",
    snippets: {
      python: {
        code: code`
def is_palindrome(text: str) -> bool:
    letters = [c.lower() for c in text if c.isalnum()]
    return letters == letters[::-1]


print(is_palindrome("A man, a plan, a canal: Panama"))  # True
print(is_palindrome("hello"))  # False`,
        output: "True\nFalse",
        note: "Spaces, punctuation and case are ignored, so whole sentences work too.",
      },
      typescript: {
        code: code`
function isPalindrome(text: string): boolean {
  const letters = Array.from(text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ""));
  return letters.join("") === letters.reverse().join("");
}

console.log(isPalindrome("A man, a plan, a canal: Panama")); // true
console.log(isPalindrome("hello")); // false`,
        output: "true\nfalse",
        note: "The Unicode classes `\\p{L}` and `\\p{N}` keep letters and digits of any script.",
      },
      javascript: {
        code: code`
function isPalindrome(text) {
  const letters = Array.from(text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ""));
  return letters.join("") === letters.reverse().join("");
}

console.log(isPalindrome("A man, a plan, a canal: Panama")); // true
console.log(isPalindrome("hello")); // false`,
        output: "true\nfalse",
        note: "The Unicode classes `\\p{L}` and `\\p{N}` keep letters and digits of any script.",
      },
      go: {
        code: goCode`
package main

import (
    "fmt"
    "unicode"
)

func isPalindrome(text string) bool {
    var letters []rune
    for _, r := range text {
        if unicode.IsLetter(r) || unicode.IsDigit(r) {
            letters = append(letters, unicode.ToLower(r))
        }
    }
    for i, j := 0, len(letters)-1; i < j; i, j = i+1, j-1 {
        if letters[i] != letters[j] {
            return false
        }
    }
    return true
}

func main() {
    fmt.Println(isPalindrome("A man, a plan, a canal: Panama")) // true
    fmt.Println(isPalindrome("hello"))                          // false
}`,
        output: "true\nfalse",
        note: "Two indexes walk inwards from both ends, so no reversed copy is needed.",
      },
      rust: {
        code: code`
fn is_palindrome(text: &str) -> bool {
    let letters: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    letters.iter().eq(letters.iter().rev())
}

fn main() {
    println!("{}", is_palindrome("A man, a plan, a canal: Panama")); // true
    println!("{}", is_palindrome("hello")); // false
}`,
        output: "true\nfalse",
        note: "`iter().eq(iter().rev())` compares the sequence with its reverse without building a second vector.",
      },
      java: {
        code: code`
public class Main {
    static boolean isPalindrome(String text) {
        String letters = text.replaceAll("[^\\p{L}\\p{N}]", "").toLowerCase();
        return letters.equals(new StringBuilder(letters).reverse().toString());
    }

    public static void main(String[] args) {
        System.out.println(isPalindrome("A man, a plan, a canal: Panama")); // true
        System.out.println(isPalindrome("hello")); // false
    }
}`,
        output: "true\nfalse",
        note: "The regex keeps letters and digits of any script; everything else is ignored.",
      },
    },
  },
  {
    id: "primes",
    title: "prime numbers",
    match: /\bprimes?\b|\bprimality\b/i,
    does: "tests numbers for primality",
    approach: "Primes: trial division up to the square root is enough for a check.",
    snippets: {
      python: {
        code: code`
def is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


print([n for n in range(30) if is_prime(n)])`,
        output: "[2, 3, 5, 7, 11, 13, 17, 19, 23, 29]",
        note: "A divisor larger than √n would pair with one smaller than √n, so checking up to √n is enough.",
      },
      typescript: {
        code: code`
function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let i = 2; i * i <= n; i++) {
    if (n % i === 0) return false;
  }
  return true;
}

const primes = Array.from({ length: 30 }, (_, n) => n).filter(isPrime);
console.log(primes.join(", "));`,
        output: "2, 3, 5, 7, 11, 13, 17, 19, 23, 29",
        note: "A divisor larger than √n would pair with one smaller than √n, so checking up to √n is enough.",
      },
      javascript: {
        code: code`
function isPrime(n) {
  if (n < 2) return false;
  for (let i = 2; i * i <= n; i++) {
    if (n % i === 0) return false;
  }
  return true;
}

const primes = Array.from({ length: 30 }, (_, n) => n).filter(isPrime);
console.log(primes.join(", "));`,
        output: "2, 3, 5, 7, 11, 13, 17, 19, 23, 29",
        note: "A divisor larger than √n would pair with one smaller than √n, so checking up to √n is enough.",
      },
      go: {
        code: goCode`
package main

import "fmt"

func isPrime(n int) bool {
    if n < 2 {
        return false
    }
    for i := 2; i*i <= n; i++ {
        if n%i == 0 {
            return false
        }
    }
    return true
}

func main() {
    var primes []int
    for n := 0; n < 30; n++ {
        if isPrime(n) {
            primes = append(primes, n)
        }
    }
    fmt.Println(primes)
}`,
        output: "[2 3 5 7 11 13 17 19 23 29]",
        note: "A divisor larger than √n would pair with one smaller than √n, so checking up to √n is enough.",
      },
      rust: {
        code: code`
fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut i = 2;
    while i * i <= n {
        if n % i == 0 {
            return false;
        }
        i += 1;
    }
    true
}

fn main() {
    let primes: Vec<u64> = (0..30).filter(|&n| is_prime(n)).collect();
    println!("{:?}", primes);
}`,
        output: "[2, 3, 5, 7, 11, 13, 17, 19, 23, 29]",
        note: "A divisor larger than √n would pair with one smaller than √n, so checking up to √n is enough.",
      },
      java: {
        code: code`
import java.util.stream.Collectors;
import java.util.stream.IntStream;

public class Main {
    static boolean isPrime(int n) {
        if (n < 2) return false;
        for (int i = 2; (long) i * i <= n; i++) {
            if (n % i == 0) return false;
        }
        return true;
    }

    public static void main(String[] args) {
        System.out.println(IntStream.range(0, 30).filter(Main::isPrime).boxed().collect(Collectors.toList()));
    }
}`,
        output: "[2, 3, 5, 7, 11, 13, 17, 19, 23, 29]",
        note: "The `(long)` cast keeps `i * i` from overflowing for n close to `Integer.MAX_VALUE`.",
      },
    },
  },
  {
    id: "sort",
    title: "sorting",
    match: /\bsort(?:s|ed|ing)?\b(?!\s+of\b)/i,
    does: "sorts a list of numbers and a list of records by a field",
    approach: "Sorting: show the built-in sort, descending order, and sorting records by a key.",
    snippets: {
      python: {
        code: code`
numbers = [5, 2, 9, 1, 7]
print(sorted(numbers))  # [1, 2, 5, 7, 9]
print(sorted(numbers, reverse=True))  # [9, 7, 5, 2, 1]

people = [{"name": "Ada", "age": 36}, {"name": "Linus", "age": 28}]
print([p["name"] for p in sorted(people, key=lambda p: p["age"])])  # ['Linus', 'Ada']`,
        output: "[1, 2, 5, 7, 9]\n[9, 7, 5, 2, 1]\n['Linus', 'Ada']",
        note: "`sorted()` returns a new list and leaves the original alone; `list.sort()` sorts in place. Both are stable.",
      },
      typescript: {
        code: code`
const numbers = [5, 2, 9, 1, 7];
console.log([...numbers].sort((a, b) => a - b)); // [ 1, 2, 5, 7, 9 ]
console.log([...numbers].sort((a, b) => b - a)); // [ 9, 7, 5, 2, 1 ]

interface Person {
  name: string;
  age: number;
}
const people: Person[] = [
  { name: "Ada", age: 36 },
  { name: "Linus", age: 28 },
];
console.log([...people].sort((a, b) => a.age - b.age).map((p) => p.name)); // [ 'Linus', 'Ada' ]`,
        output: "[ 1, 2, 5, 7, 9 ]\n[ 9, 7, 5, 2, 1 ]\n[ 'Linus', 'Ada' ]",
        note: "Always pass a comparator for numbers: the default `sort()` compares them as strings (`[10, 9].sort()` stays `[10, 9]`). Copying with `[...numbers]` keeps the original order intact.",
      },
      javascript: {
        code: code`
const numbers = [5, 2, 9, 1, 7];
console.log([...numbers].sort((a, b) => a - b)); // [ 1, 2, 5, 7, 9 ]
console.log([...numbers].sort((a, b) => b - a)); // [ 9, 7, 5, 2, 1 ]

const people = [
  { name: "Ada", age: 36 },
  { name: "Linus", age: 28 },
];
console.log([...people].sort((a, b) => a.age - b.age).map((p) => p.name)); // [ 'Linus', 'Ada' ]`,
        output: "[ 1, 2, 5, 7, 9 ]\n[ 9, 7, 5, 2, 1 ]\n[ 'Linus', 'Ada' ]",
        note: "Always pass a comparator for numbers: the default `sort()` compares them as strings (`[10, 9].sort()` stays `[10, 9]`). Copying with `[...numbers]` keeps the original order intact.",
      },
      go: {
        code: goCode`
package main

import (
    "fmt"
    "sort"
)

type Person struct {
    Name string
    Age  int
}

func main() {
    numbers := []int{5, 2, 9, 1, 7}
    sort.Ints(numbers)
    fmt.Println(numbers) // [1 2 5 7 9]
    sort.Sort(sort.Reverse(sort.IntSlice(numbers)))
    fmt.Println(numbers) // [9 7 5 2 1]

    people := []Person{{"Ada", 36}, {"Linus", 28}}
    sort.Slice(people, func(i, j int) bool { return people[i].Age < people[j].Age })
    fmt.Println(people[0].Name, people[1].Name) // Linus Ada
}`,
        output: "[1 2 5 7 9]\n[9 7 5 2 1]\nLinus Ada",
        note: "Go's sorts work in place. Use `sort.SliceStable` when equal elements must keep their order.",
      },
      rust: {
        code: code`
struct Person {
    name: &'static str,
    age: u32,
}

fn main() {
    let mut numbers = vec![5, 2, 9, 1, 7];
    numbers.sort();
    println!("{:?}", numbers); // [1, 2, 5, 7, 9]
    numbers.sort_by(|a, b| b.cmp(a));
    println!("{:?}", numbers); // [9, 7, 5, 2, 1]

    let mut people = vec![Person { name: "Ada", age: 36 }, Person { name: "Linus", age: 28 }];
    people.sort_by_key(|p| p.age);
    let names: Vec<&str> = people.iter().map(|p| p.name).collect();
    println!("{:?}", names); // ["Linus", "Ada"]
}`,
        output: "[1, 2, 5, 7, 9]\n[9, 7, 5, 2, 1]\n[\"Linus\", \"Ada\"]",
        note: "`sort` and `sort_by_key` are stable; `sort_unstable` is faster when the order of equal elements does not matter.",
      },
      java: {
        code: code`
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

public class Main {
    record Person(String name, int age) {}

    public static void main(String[] args) {
        List<Integer> numbers = new ArrayList<>(List.of(5, 2, 9, 1, 7));
        numbers.sort(Comparator.naturalOrder());
        System.out.println(numbers); // [1, 2, 5, 7, 9]
        numbers.sort(Comparator.reverseOrder());
        System.out.println(numbers); // [9, 7, 5, 2, 1]

        List<Person> people = new ArrayList<>(List.of(new Person("Ada", 36), new Person("Linus", 28)));
        people.sort(Comparator.comparingInt(Person::age));
        System.out.println(people.stream().map(Person::name).toList()); // [Linus, Ada]
    }
}`,
        output: "[1, 2, 5, 7, 9]\n[9, 7, 5, 2, 1]\n[Linus, Ada]",
        note: "`List.of` is immutable, hence the copy into an `ArrayList` before sorting in place (records need Java 16+).",
      },
    },
  },
  {
    id: "read-file",
    title: "reading a file",
    // a CSV, JSON or YAML file needs a parser, not line reading: those get the honest "no example" answer
    match: /^(?!.*\b(?:csv|json|xml|yaml|toml|excel|xlsx)\b).*(?:\b(?:read|reads|reading|open|load)\b.*\bfiles?\b|\bfiles?\b.*\b(?:read|reading)\b)/i,
    does: "reads a text file line by line",
    approach: "Reading a file: open it as UTF-8, go line by line, and let a missing file raise a clear error.",
    snippets: {
      python: {
        code: code`
from pathlib import Path


def read_lines(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()


for number, line in enumerate(read_lines("notes.txt"), start=1):
    print(f"{number}: {line}")`,
        output: "1: first\n2: second",
        note: "For very large files, iterate instead of reading it whole: `with open(path, encoding=\"utf-8\") as f: for line in f: ...`. A missing file raises `FileNotFoundError`.",
      },
      typescript: {
        code: code`
import { readFile } from "node:fs/promises";

async function readLines(path: string): Promise<string[]> {
  const lines = (await readFile(path, "utf8")).split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop(); // a final newline ends the last line, it does not start a new one
  return lines;
}

const lines = await readLines("notes.txt");
lines.forEach((line, i) => console.log(${tick}${dollar}{i + 1}: ${dollar}{line}${tick}));`,
        output: "1: first\n2: second",
        note: "Run it as an ES module (`.mts`, or `\"type\": \"module\"`) for the top-level `await`. A missing file rejects with an `ENOENT` error. For huge files, stream them with `readline.createInterface({ input: createReadStream(path) })`.",
      },
      javascript: {
        code: code`
import { readFile } from "node:fs/promises";

async function readLines(path) {
  const lines = (await readFile(path, "utf8")).split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop(); // a final newline ends the last line, it does not start a new one
  return lines;
}

const lines = await readLines("notes.txt");
lines.forEach((line, i) => console.log(${tick}${dollar}{i + 1}: ${dollar}{line}${tick}));`,
        output: "1: first\n2: second",
        note: "Run it as an ES module (`.mjs`, or `\"type\": \"module\"`) for the top-level `await`. A missing file rejects with an `ENOENT` error.",
      },
      go: {
        code: goCode`
package main

import (
    "bufio"
    "fmt"
    "log"
    "os"
)

func main() {
    file, err := os.Open("notes.txt")
    if err != nil {
        log.Fatal(err)
    }
    defer file.Close()

    scanner := bufio.NewScanner(file)
    for n := 1; scanner.Scan(); n++ {
        fmt.Printf("%d: %s\n", n, scanner.Text())
    }
    if err := scanner.Err(); err != nil {
        log.Fatal(err)
    }
}`,
        output: "1: first\n2: second",
        note: "`bufio.Scanner` reads one line at a time, so the file never has to fit in memory (lines longer than 64 KB need `scanner.Buffer`).",
      },
      rust: {
        code: code`
use std::fs;

fn main() -> std::io::Result<()> {
    let text = fs::read_to_string("notes.txt")?;
    for (number, line) in text.lines().enumerate() {
        println!("{}: {}", number + 1, line);
    }
    Ok(())
}`,
        output: "1: first\n2: second",
        note: "The `?` passes a missing file or invalid UTF-8 up as an `io::Error`. For huge files use `BufReader::new(File::open(path)?).lines()`.",
      },
      java: {
        code: code`
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

public class Main {
    public static void main(String[] args) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("notes.txt"));
        for (int i = 0; i < lines.size(); i++) {
            System.out.println((i + 1) + ": " + lines.get(i));
        }
    }
}`,
        output: "1: first\n2: second",
        note: "`Files.readAllLines` reads UTF-8 by default; for huge files, `Files.lines(path)` streams them lazily.",
      },
    },
  },
  {
    id: "http-request",
    title: "HTTP requests",
    match: /\bhttps?\b.*\b(?:request|get|call|fetch|client)|\b(?:fetch|call|query)\b.*\b(?:api|url|endpoint|json)\b|\b(?:api|web) (?:request|call)s?\b|\bget request\b|\bdownload\b.*\b(?:url|page|json)\b|\bfetch\b/i,
    does: "makes an HTTP GET request and reads the JSON answer",
    approach: "An HTTP request: set a timeout, check the status code, then parse the JSON.",
    snippets: {
      python: {
        code: code`
import json
from urllib.request import Request, urlopen


def get_json(url: str) -> dict:
    request = Request(url, headers={"Accept": "application/json", "User-Agent": "demo-script"})
    with urlopen(request, timeout=10) as response:  # raises HTTPError for 4xx and 5xx answers
        return json.load(response)


repo = get_json("https://api.github.com/repos/ollama/ollama")
print(repo["full_name"], repo["stargazers_count"])`,
        note: "This uses only the standard library. With the `requests` package it is `requests.get(url, timeout=10)`, then `.raise_for_status()` and `.json()`.",
      },
      typescript: {
        code: code`
async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, {
    headers: { Accept: "application/json" },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(${tick}GET ${dollar}{url} failed: ${dollar}{response.status} ${dollar}{response.statusText}${tick});
  return (await response.json()) as T;
}

interface Repo {
  full_name: string;
  stargazers_count: number;
}
const repo = await getJson<Repo>("https://api.github.com/repos/ollama/ollama");
console.log(repo.full_name, repo.stargazers_count);`,
        note: "`fetch` is built into browsers and Node 18+. It does not reject on 404 or 500, hence the `response.ok` check; the timeout signal stops a hung request.",
      },
      javascript: {
        code: code`
async function getJson(url) {
  const response = await fetch(url, {
    headers: { Accept: "application/json" },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(${tick}GET ${dollar}{url} failed: ${dollar}{response.status} ${dollar}{response.statusText}${tick});
  return response.json();
}

const repo = await getJson("https://api.github.com/repos/ollama/ollama");
console.log(repo.full_name, repo.stargazers_count);`,
        note: "`fetch` is built into browsers and Node 18+. It does not reject on 404 or 500, hence the `response.ok` check; the timeout signal stops a hung request.",
      },
      go: {
        code: goCode`
package main

import (
    "encoding/json"
    "fmt"
    "log"
    "net/http"
    "time"
)

type Repo struct {
    FullName string ${"`"}json:"full_name"${"`"}
    Stars    int    ${"`"}json:"stargazers_count"${"`"}
}

func main() {
    client := &http.Client{Timeout: 10 * time.Second}
    resp, err := client.Get("https://api.github.com/repos/ollama/ollama")
    if err != nil {
        log.Fatal(err)
    }
    defer resp.Body.Close()
    if resp.StatusCode != http.StatusOK {
        log.Fatalf("unexpected status: %s", resp.Status)
    }

    var repo Repo
    if err := json.NewDecoder(resp.Body).Decode(&repo); err != nil {
        log.Fatal(err)
    }
    fmt.Println(repo.FullName, repo.Stars)
}`,
        note: "`http.Get` has no timeout at all, hence the custom client. Always close the body, or the connection cannot be reused.",
      },
      rust: {
        setup: "Rust's standard library has no HTTP client; add `reqwest = { version = \"0.12\", features = [\"blocking\", \"json\"] }` and `serde_json = \"1\"` to `Cargo.toml`.",
        code: code`
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent("demo-script")
        .build()?;
    let repo: serde_json::Value = client
        .get("https://api.github.com/repos/ollama/ollama")
        .send()?
        .error_for_status()?
        .json()?;
    println!("{} {}", repo["full_name"], repo["stargazers_count"]);
    Ok(())
}`,
        note: "`error_for_status()` turns 4xx and 5xx answers into errors; in async code use `reqwest::Client` with `.await` instead of the blocking client.",
      },
      java: {
        code: code`
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

public class Main {
    public static void main(String[] args) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://api.github.com/repos/ollama/ollama"))
                .header("Accept", "application/json")
                .timeout(Duration.ofSeconds(10))
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) throw new IllegalStateException("unexpected status " + response.statusCode());
        System.out.println(response.body());
    }
}`,
        note: "`java.net.http` ships with Java 11+. The JDK has no JSON parser: hand the body to Jackson or Gson to read fields.",
      },
    },
  },
  {
    id: "greet",
    title: "greetings",
    match: /\bgreet(?:s|ing)?\b|\bhello,? world\b/i,
    does: "greets someone by name",
    approach: "A greeting function: take a name, return the sentence, print it once.",
    snippets: {
      python: {
        code: code`
def greet(name: str) -> str:
    return f"Hello, {name}!"


print(greet("world"))`,
        output: "Hello, world!",
        note: "An f-string puts the value of `name` straight into the text.",
      },
      typescript: {
        code: code`
export function greet(name: string): string {
  return ${tick}Hello, ${dollar}{name}!${tick};
}

console.log(greet("world"));`,
        output: "Hello, world!",
        note: "The template literal puts the value of `name` straight into the text; `export` lets other modules import it.",
      },
      javascript: {
        code: code`
export function greet(name) {
  return ${tick}Hello, ${dollar}{name}!${tick};
}

console.log(greet("world"));`,
        output: "Hello, world!",
        note: "The template literal puts the value of `name` straight into the text; `export` lets other modules import it.",
      },
      go: {
        code: goCode`
package main

import "fmt"

func greet(name string) string {
    return fmt.Sprintf("Hello, %s!", name)
}

func main() {
    fmt.Println(greet("world"))
}`,
        output: "Hello, world!",
        note: "`fmt.Sprintf` formats into a string; `fmt.Printf` would print directly.",
      },
      rust: {
        code: code`
fn greet(name: &str) -> String {
    format!("Hello, {}!", name)
}

fn main() {
    println!("{}", greet("world"));
}`,
        output: "Hello, world!",
        note: "Taking `&str` accepts both string literals and borrowed `String`s.",
      },
      java: {
        code: code`
public class Main {
    static String greet(String name) {
        return "Hello, " + name + "!";
    }

    public static void main(String[] args) {
        System.out.println(greet("world"));
    }
}`,
        output: "Hello, world!",
        note: "`String.format(\"Hello, %s!\", name)` does the same when there are more values to fill in.",
      },
    },
  },
];

export const defaultLanguage: Language = languages[0]!;

/** The language named last: "turn this python into rust" and "now in go" both want the last one. */
export function languageIn(text: string): Language | undefined {
  let best: { lang: Language; at: number } | undefined;
  for (const lang of languages) {
    const at = text.search(lang.match);
    if (at >= 0 && (!best || at > best.at)) best = { lang, at };
  }
  return best?.lang;
}

export function otherLanguageIn(text: string): string | undefined {
  return otherLanguages.find(([re]) => re.test(text))?.[1];
}

export function taskIn(text: string): CodeTask | undefined {
  return codeTasks.find((t) => t.match.test(text));
}
