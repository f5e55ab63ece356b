"""The conversation with the resident after the form: their answers and added information
(status page or mail reply), reminders for unanswered questions, the satisfaction question
and the reopen requests it leads to."""
