package rag

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ragkit-go/rag/internal/cite"
	"github.com/ragkit-go/rag/llm"
	"github.com/ragkit-go/rag/tokenizer"
)

// Conversation is the history of a chat: what Answer needs to understand a
// follow-up question. The caller keeps it between calls and passes it in
// AnswerOptions.Conversation; Answer and AnswerStream append each turn
// they complete, and replace the oldest turns with a summary when the
// history outgrows its budget.
//
// The zero value is an empty conversation. A Conversation is a plain value
// (it can be stored as JSON and restored), not safe for concurrent use: one
// call at a time may use it.
type Conversation struct {
	// Summary sums up turns older than Turns, as the model wrote it.
	Summary string `json:"summary,omitempty"`
	// Turns are the most recent exchanges, oldest first.
	Turns []Turn `json:"turns,omitempty"`
}

// Turn is one exchange of a conversation.
type Turn struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Add appends a turn, for conversations built by hand.
func (c *Conversation) Add(question, answer string) {
	c.Turns = append(c.Turns, Turn{Question: question, Answer: answer})
}

// Reset empties the conversation.
func (c *Conversation) Reset() { *c = Conversation{} }

func (c *Conversation) empty() bool { return c.Summary == "" && len(c.Turns) == 0 }

// turnOverhead is the tokens a turn costs beyond its texts: the two
// messages' framing.
const turnOverhead = 8

// condense returns the history to give the model: c itself when it fits
// budget tokens, or else a new summary of its oldest turns, written by the
// model, followed by the newest turns that fit half the budget. The new
// history is kept in r.condensed, for the caller's conversation once the
// answer is complete.
func (r *answerRun) condense(ctx context.Context, c Conversation, budget int) (Conversation, error) {
	tok := tokenizer.CL100K()
	cost := func(t Turn) int { return tok.Count(t.Question) + tok.Count(cite.Strip(t.Answer)) + turnOverhead }
	total := tok.Count(c.Summary)
	for _, t := range c.Turns {
		total += cost(t)
	}
	if total <= budget {
		return c, nil
	}
	keep, used := 0, 0
	for i := len(c.Turns) - 1; i >= 0; i-- {
		if used+cost(c.Turns[i]) > budget/2 {
			break
		}
		used += cost(c.Turns[i])
		keep++
	}
	old := c.Turns[:len(c.Turns)-keep]
	summary := c.Summary
	if len(old) > 0 {
		var err error
		if summary, err = r.summarise(ctx, c.Summary, old, budget/2); err != nil {
			return Conversation{}, err
		}
	}
	// The summary gets the other half of the budget, even when the model
	// wrote more than asked.
	if ids := tok.Encode(summary); len(ids) > budget/2 {
		summary = strings.ToValidUTF8(tok.Decode(ids[:budget/2]), "")
	}
	out := Conversation{Summary: summary, Turns: slices.Clone(c.Turns[len(old):])}
	r.condensed = &out
	r.p.logger.Debug("rag: summarised the conversation", "turns", len(old), "kept", keep)
	return out, nil
}

const summaryPrompt = `You summarise conversations between a user and an assistant that answers from documents.
Write a concise summary of the conversation you are given, in the third person. Keep the facts, names, numbers and topics a follow-up question could refer to. Reply with the summary only.`

// summarise has the model write a summary of an earlier summary and the
// turns after it, in at most maxTokens tokens.
func (r *answerRun) summarise(ctx context.Context, earlier string, turns []Turn, maxTokens int) (string, error) {
	var b strings.Builder
	if earlier != "" {
		b.WriteString("Summary of the earlier conversation:\n" + earlier + "\n\n")
	}
	b.WriteString("Conversation:\n")
	writeTurns(&b, turns)
	resp, err := r.model.Generate(ctx, llm.Request{
		Messages:    []llm.Message{{Role: llm.System, Content: summaryPrompt}, {Role: llm.User, Content: b.String()}},
		MaxTokens:   max(maxTokens, 64),
		Temperature: llm.Temperature(0),
	})
	if err != nil {
		return "", fmt.Errorf("rag: summarising the conversation: %w", err)
	}
	r.addUsage(resp)
	return strings.TrimSpace(resp.Text), nil
}

func writeTurns(b *strings.Builder, turns []Turn) {
	for _, t := range turns {
		b.WriteString("User: " + strings.TrimSpace(t.Question) + "\n")
		b.WriteString("Assistant: " + strings.TrimSpace(cite.Strip(t.Answer)) + "\n")
	}
}

const rewritePrompt = `You rewrite follow-up questions for a search engine.
Given a conversation and the user's next question, rewrite the question so that it can be understood without the conversation: replace pronouns and references with what they refer to, and keep everything else. If it already stands alone, repeat it unchanged. Reply with the question only; do not answer it.`

// maxRewriteTokens bounds a rewritten question.
const maxRewriteTokens = 128

// rewriteQuery has the model turn r.question into a standalone question,
// given the history, and makes it r.query. A reply that is empty keeps
// the question as asked.
func (r *answerRun) rewriteQuery(ctx context.Context, hist Conversation) error {
	var b strings.Builder
	if hist.Summary != "" {
		b.WriteString("Summary of the earlier conversation:\n" + hist.Summary + "\n\n")
	}
	b.WriteString("Conversation:\n")
	writeTurns(&b, hist.Turns)
	b.WriteString("\nNext question: " + r.question)
	resp, err := r.model.Generate(ctx, llm.Request{
		Messages:    []llm.Message{{Role: llm.System, Content: rewritePrompt}, {Role: llm.User, Content: b.String()}},
		MaxTokens:   maxRewriteTokens,
		Temperature: llm.Temperature(0),
	})
	if err != nil {
		return fmt.Errorf("rag: rewriting the question: %w", err)
	}
	r.addUsage(resp)
	if q := cleanRewrite(resp.Text); q != "" {
		r.query = q
	}
	return nil
}

// cleanRewrite takes the question out of a rewrite reply: its first line
// that is not empty, without a label or quotes.
func cleanRewrite(s string) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		for _, label := range []string{"standalone question:", "rewritten question:", "question:"} {
			if len(line) >= len(label) && strings.EqualFold(line[:len(label)], label) {
				line = strings.TrimSpace(line[len(label):])
				break
			}
		}
		return strings.Trim(line, "\"'“”`")
	}
	return ""
}
