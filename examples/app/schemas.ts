/** TypeBox schemas shared by the routes: they validate requests and describe the API in OpenAPI. */
import { t } from "elysia";

export const Email = t.String({
  format: "email",
  maxLength: 254,
  description: "An email address.",
  examples: ["ada@example.com"],
});

export const ErrorResponse = t.Object({
  error: t.String({ description: "The HTTP reason phrase.", examples: ["Unprocessable Entity"] }),
  message: t.String({ description: "What was wrong and what to do.", examples: ["Invalid params email: Expected string to match 'email' format."] }),
}, { description: "Every error is answered with this JSON object." });

export const MessageResponse = t.Object({
  message: t.String({ examples: ["Notification sent in the background"] }),
});
